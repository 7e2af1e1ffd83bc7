"""Shared test material of tests/exercise: a small scenario on a subset of the demo catalogue."""

SCENARIO = """\
exercise:
  name: Mini-Shadow
  marking: "UNCLASSIFIED//EXERCISE"
  duration: 8h
  step: 20m
  lookahead: 4h
  consensus: {rule: unanimity, deadline: 3h}
objectives:
  - {id: O1, title: Detect the approach}
participants:
  - nation: USA
    sensors: {regimes: [LEO], latency: 30m}
    assets: [{ref: isr}]
  - nation: GBR
    sensors: {regimes: [LEO], latency: 60m}
  - nation: NZL
objects:
  isr:
    owner: USA
    select: [{name: "SIM ALLIED ISR-1"}]
  inspector:
    owner: CIS
    select: [{name: "SIM INSPECTOR-7"}, {place: {relative_to: isr, rtn_km: [0, -5, 0]}}]
msel:
  - id: I-1
    at: T+10m
    kind: intel_report
    from: GBR
    to: [GBR, USA]
    title: Warning
    objective: O1
    expected_actions: [{action: acknowledge, by: [USA], within: 1h}]
  - id: I-2
    at: T+1h
    kind: manoeuvre
    object: inspector
    approach: {target: isr, range_km: 2.0, by: T+4h}
    objective: O1
    expected_actions:
      - {action: acknowledge, by: all, within: 1h}
      - {action: release, by: [USA], within: 2h}
  - id: I-3
    kind: news
    contingency:
      expected: {action: release, by: USA}
      by: T+4h
    to: all
    title: Press asks questions
  - id: I-4
    kind: manoeuvre
    red_cell: true
    object: inspector
    dv_rtn_mps: [0, -1, 0]
    title: Back off
red_cell:
  actor: CIS
  rules:
    - id: back-off
      when: {action: {action: notify, public: true, about: inspector}}
      then: {fire: [I-4]}
"""
