-- A tickflow PostgreSQL database of schema version 2, as tickflow made it
-- before version 3 (the tables of migrations 1 and 2, then the version).
CREATE TABLE tickflow_schema (
	version     integer     NOT NULL,
	application text        NOT NULL,
	migrated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE bars (
	symbol    text        NOT NULL CHECK (symbol <> ''),
	timeframe text        NOT NULL,
	time      timestamptz NOT NULL,
	open      float8      NOT NULL,
	high      float8      NOT NULL,
	low       float8      NOT NULL,
	close     float8      NOT NULL,
	volume    float8      NOT NULL,
	CHECK (high >= low),
	PRIMARY KEY (symbol, timeframe, time)
);
CREATE TABLE signals (
	symbol      text        NOT NULL CHECK (symbol <> ''),
	time        timestamptz NOT NULL,
	side        text        NOT NULL CHECK (side IN ('buy', 'sell')),
	strategy    text        NOT NULL,
	price       float8      NOT NULL,
	reason      text        NOT NULL,
	ema         float8,
	stoch_k     float8,
	stoch_d     float8,
	recorded_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (symbol, time, side, strategy)
);
CREATE INDEX signals_by_time ON signals (time);
CREATE TABLE symbols (
	seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	symbol    text   NOT NULL,
	timeframe text   NOT NULL,
	UNIQUE (symbol, timeframe)
);
INSERT INTO tickflow_schema (version, application) VALUES (2, 'tickflow');
