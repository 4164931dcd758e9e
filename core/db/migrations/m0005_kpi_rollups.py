"""KPI rollups: per fact source and UTC day, the reducers' partial states grouped by every
dimension the source's KPIs filter or group by; which days are built; which are dirty."""

NAME = "kpi_rollups"

STATEMENTS = [
    """CREATE TABLE kpi_rollups (
        id TEXT PRIMARY KEY, source TEXT NOT NULL, day TEXT NOT NULL, dims TEXT NOT NULL, states TEXT NOT NULL)""",
    "CREATE INDEX kpi_rollups_source_day ON kpi_rollups (source, day)",
    """CREATE TABLE kpi_rollup_days (
        id TEXT PRIMARY KEY, source TEXT NOT NULL, day TEXT NOT NULL, built_at TIMESTAMPTZ NOT NULL)""",
    "CREATE INDEX kpi_rollup_days_source_day ON kpi_rollup_days (source, day)",
    """CREATE TABLE kpi_dirty_days (
        id TEXT PRIMARY KEY, source TEXT NOT NULL, day TEXT NOT NULL, marked_at TIMESTAMPTZ NOT NULL)""",
]
