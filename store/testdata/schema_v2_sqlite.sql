-- A tickflow SQLite database of schema version 2, as tickflow made it
-- before version 3 (the tables of migrations 1 and 2, then the version).
CREATE TABLE tickflow_schema (
	version     INTEGER NOT NULL,
	application TEXT    NOT NULL,
	migrated_at INTEGER NOT NULL
);
CREATE TABLE bars (
	symbol    TEXT    NOT NULL CHECK (symbol <> ''),
	timeframe TEXT    NOT NULL,
	time      INTEGER NOT NULL, -- Unix nanoseconds, UTC
	open      REAL    NOT NULL,
	high      REAL    NOT NULL,
	low       REAL    NOT NULL,
	close     REAL    NOT NULL,
	volume    REAL    NOT NULL,
	CHECK (high >= low),
	PRIMARY KEY (symbol, timeframe, time)
) WITHOUT ROWID;
CREATE TABLE signals (
	symbol      TEXT    NOT NULL CHECK (symbol <> ''),
	time        INTEGER NOT NULL, -- Unix nanoseconds, UTC
	side        TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
	strategy    TEXT    NOT NULL,
	price       REAL    NOT NULL,
	reason      TEXT    NOT NULL,
	ema         REAL,
	stoch_k     REAL,
	stoch_d     REAL,
	recorded_at INTEGER NOT NULL,
	PRIMARY KEY (symbol, time, side, strategy)
) WITHOUT ROWID;
CREATE INDEX signals_by_time ON signals (time);
CREATE TABLE symbols (
	seq       INTEGER PRIMARY KEY, -- grows as symbols are first stored
	symbol    TEXT    NOT NULL,
	timeframe TEXT    NOT NULL,
	UNIQUE (symbol, timeframe)
);
INSERT INTO tickflow_schema (version, application, migrated_at) VALUES (2, 'tickflow', 1700000000000000000);
PRAGMA application_id = 1416316524;
PRAGMA user_version = 2;
