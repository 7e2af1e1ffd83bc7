// The whole catalogue as one Cesium primitive: one point per object, interpolated on the GPU.
//
// The server samples each object's SGP4 state (TEME position km, velocity km/s) at knots t_k = start +
// k*h. For the current interval [t_k, t_k+1] two vertex buffers hold knot k and knot k+1 (uploaded as
// they are, no reshuffling: the server's [knot][object][6] layout is the buffer layout). The vertex
// shader evaluates the cubic Hermite polynomial between them at s = (t - t_k)/h, rotates TEME to the
// Earth-fixed frame with the matrix Cesium gives for the frame's time
// (Transforms.computeTemeToPseudoFixedMatrix: GMST rotation, as SGP4's TEME is defined), and projects.
// So a frame costs the CPU nothing per object; a knot change costs two buffer uploads (2 x 624 kB
// for 26,000 objects). Hermite error with h = 60 s is below 1 m in LEO; with h = 600 s below ~5 km.
//
// In 2D and Columbus view the shader converts to geodetic longitude/latitude (Bowring) and applies
// Cesium's geographic projection, so the same buffers serve all three scene modes and the morph.
//
// This uses Cesium's renderer classes (Buffer, VertexArray, DrawCommand, ShaderProgram), which are
// exported by the Cesium build but are not part of its stable public API: the Cesium version is pinned
// in src/orbitwatch/web/npm/package-lock.json.

const VS = `
in vec3 p0; in vec3 v0; in vec3 p1; in vec3 v1; in vec4 colour; in vec2 style;
uniform mat3 u_rot;
uniform float u_s;
uniform float u_h;
out vec4 v_colour;
out float v_ring;
const float A = 6378137.0;
const float F = 1.0 / 298.257223563;
void main() {
  float s = u_s;
  float s2 = s * s;
  float s3 = s2 * s;
  vec3 pt = (2.0 * s3 - 3.0 * s2 + 1.0) * p0 + (s3 - 2.0 * s2 + s) * u_h * v0
          + (-2.0 * s3 + 3.0 * s2) * p1 + (s3 - s2) * u_h * v1;
  vec3 pf = u_rot * (pt * 1000.0);
  v_colour = colour;
  v_ring = style.y;
  if (style.x <= 0.0 || dot(p0, p0) < 1.0 || dot(p1, p1) < 1.0) {
    // hidden by the filter, or SGP4 could not propagate it at one of the knots
    gl_Position = vec4(2.0, 2.0, 2.0, 1.0);
    gl_PointSize = 0.0;
    return;
  }
  vec4 p3 = vec4(pf, 1.0);
  if (czm_sceneMode == czm_sceneMode3D) {
    gl_Position = czm_modelViewProjection * p3;
  } else {
    float e2 = F * (2.0 - F);
    float b = A * (1.0 - F);
    float p = length(pf.xy);
    float th = atan(pf.z * A, p * b);
    float st = sin(th);
    float ct = cos(th);
    float lat = atan(pf.z + e2 / (1.0 - e2) * b * st * st * st, p - e2 * A * ct * ct * ct);
    float lon = atan(pf.y, pf.x);
    float sl = sin(lat);
    float h = p / max(cos(lat), 1e-6) - A / sqrt(1.0 - e2 * sl * sl);
    float up = czm_sceneMode == czm_sceneMode2D ? 0.0 : h;
    vec4 p2 = vec4(up, lon * A, lat * A, 1.0);
    if (czm_sceneMode == czm_sceneModeMorphing) {
      gl_Position = czm_modelViewProjection * czm_columbusViewMorph(vec4(h, lon * A, lat * A, 1.0), p3, czm_morphTime);
    } else {
      gl_Position = czm_modelViewProjection * p2;
    }
  }
  gl_PointSize = style.x * czm_pixelRatio;
}`;

const FS = `
in vec4 v_colour;
in float v_ring;
void main() {
  vec2 c = gl_PointCoord - vec2(0.5);
  float r2 = dot(c, c);
  if (r2 > 0.25) discard;
  // own assets: a white ring around the coloured core
  if (v_ring > 0.5 && r2 > 0.09) { out_FragColor = vec4(1.0); return; }
  out_FragColor = v_colour;
}`;

export class OrbitPoints {
  constructor(n) {
    this.n = n;
    this.show = true;
    this.rot = new Cesium.Matrix3();
    this.s = 0;
    this.h = 60;
    this._knotA = null;
    this._knotB = null;
    this._knotDirty = false;
    this.colours = new Uint8Array(n * 4);
    this.styles = new Float32Array(n * 2);
    this._styleDirty = true;
    this._command = null;
    this._rs3d = null;
    this._rs2d = null;
    this.hasData = false;
    this.drawn = 0; // frames drawn with position data, for the first-frame measurement
  }

  /** The two knot slices (Float32Array views of n*6 floats each) bracketing the current time. */
  setKnots(a, b, h) {
    this._knotA = a;
    this._knotB = b;
    this.h = h;
    this._knotDirty = true;
  }

  setStyle(colours, styles) {
    this.colours = colours;
    this.styles = styles;
    this._styleDirty = true;
  }

  _create(context) {
    const mk = (bytes) => Cesium.Buffer.createVertexBuffer({ context, sizeInBytes: bytes, usage: Cesium.BufferUsage.DYNAMIC_DRAW });
    const n = Math.max(this.n, 1);
    this._bA = mk(n * 24);
    this._bB = mk(n * 24);
    this._bC = mk(n * 4);
    this._bS = mk(n * 8);
    const F = Cesium.ComponentDatatype.FLOAT;
    const attributes = [
      { index: 0, vertexBuffer: this._bA, componentsPerAttribute: 3, componentDatatype: F, offsetInBytes: 0, strideInBytes: 24 },
      { index: 1, vertexBuffer: this._bA, componentsPerAttribute: 3, componentDatatype: F, offsetInBytes: 12, strideInBytes: 24 },
      { index: 2, vertexBuffer: this._bB, componentsPerAttribute: 3, componentDatatype: F, offsetInBytes: 0, strideInBytes: 24 },
      { index: 3, vertexBuffer: this._bB, componentsPerAttribute: 3, componentDatatype: F, offsetInBytes: 12, strideInBytes: 24 },
      { index: 4, vertexBuffer: this._bC, componentsPerAttribute: 4, componentDatatype: Cesium.ComponentDatatype.UNSIGNED_BYTE, normalize: true },
      { index: 5, vertexBuffer: this._bS, componentsPerAttribute: 2, componentDatatype: F },
    ];
    this._va = new Cesium.VertexArray({ context, attributes });
    const shaderProgram = Cesium.ShaderProgram.fromCache({
      context, vertexShaderSource: VS, fragmentShaderSource: FS,
      attributeLocations: { p0: 0, v0: 1, p1: 2, v1: 3, colour: 4, style: 5 },
    });
    this._rs3d = Cesium.RenderState.fromCache({ depthTest: { enabled: true }, depthMask: true });
    // In 2D the points lie in the map's plane: draw them over it, not into it.
    this._rs2d = Cesium.RenderState.fromCache({ depthTest: { enabled: false }, depthMask: false });
    const self = this;
    this._command = new Cesium.DrawCommand({
      vertexArray: this._va,
      primitiveType: Cesium.PrimitiveType.POINTS,
      shaderProgram,
      renderState: this._rs3d,
      pass: Cesium.Pass.OPAQUE,
      owner: this,
      count: this.n,
      cull: false,
      boundingVolume: new Cesium.BoundingSphere(Cesium.Cartesian3.ZERO, 5.0e8),
      uniformMap: { u_rot: () => self.rot, u_s: () => self.s, u_h: () => self.h },
    });
  }

  update(frameState) {
    if (!this.show || this.n === 0) return;
    if (!this._command) this._create(frameState.context);
    if (this._knotDirty && this._knotA && this._knotB) {
      this._bA.copyFromArrayView(this._knotA, 0);
      this._bB.copyFromArrayView(this._knotB, 0);
      this._knotDirty = false;
      this.hasData = true;
    }
    if (this._styleDirty) {
      this._bC.copyFromArrayView(this.colours, 0);
      this._bS.copyFromArrayView(this.styles, 0);
      this._styleDirty = false;
    }
    if (!this.hasData) return;
    this._command.renderState = frameState.mode === Cesium.SceneMode.SCENE2D ? this._rs2d : this._rs3d;
    frameState.commandList.push(this._command);
    this.drawn += 1;
  }

  isDestroyed() { return false; }

  destroy() {
    if (this._va) this._va.destroy(); // destroys its vertex buffers too
    if (this._command && this._command.shaderProgram) this._command.shaderProgram.destroy();
    return Cesium.destroyObject(this);
  }
}

/** CPU twin of the shader's interpolation: TEME position (km) of object i at fraction s of [k, k+1]. */
export function hermite(a, b, i, s, h, out) {
  const o = i * 6;
  const s2 = s * s;
  const s3 = s2 * s;
  const h00 = 2 * s3 - 3 * s2 + 1;
  const h10 = (s3 - 2 * s2 + s) * h;
  const h01 = -2 * s3 + 3 * s2;
  const h11 = (s3 - s2) * h;
  out[0] = h00 * a[o] + h10 * a[o + 3] + h01 * b[o] + h11 * b[o + 3];
  out[1] = h00 * a[o + 1] + h10 * a[o + 4] + h01 * b[o + 1] + h11 * b[o + 4];
  out[2] = h00 * a[o + 2] + h10 * a[o + 5] + h01 * b[o + 2] + h11 * b[o + 5];
  return out;
}
