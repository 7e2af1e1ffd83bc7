"""The bundled demo catalogue (SIMULATED) and live download of current public data."""
