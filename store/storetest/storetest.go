// Package storetest runs tests against every store backend: SQLite in a
// temporary directory always, and PostgreSQL when the environment variable
// TICKFLOW_TEST_POSTGRES holds a server address, for example
//
//	TICKFLOW_TEST_POSTGRES='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' go test ./...
//
// Each PostgreSQL test gets its own schema, dropped when the test ends, so
// parallel runs do not collide.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvPostgres names the environment variable with the PostgreSQL test server.
const EnvPostgres = "TICKFLOW_TEST_POSTGRES"

// Backends are the names Each gives its subtests.
var Backends = []string{"sqlite", "postgres"}

// Each runs f as a subtest per backend with a fresh, empty database URL.
func Each(t *testing.T, f func(t *testing.T, dbURL string)) {
	t.Helper()
	for _, name := range Backends {
		t.Run(name, func(t *testing.T) { f(t, URL(t, name)) })
	}
}

// URL returns a fresh database URL of the named backend ("sqlite" or
// "postgres"); for PostgreSQL it skips t when EnvPostgres is unset.
func URL(t testing.TB, backend string) string {
	t.Helper()
	switch backend {
	case "sqlite":
		return SQLiteURL(t)
	case "postgres":
		return PostgresURL(t)
	}
	t.Fatalf("storetest: unknown backend %q", backend)
	return ""
}

// SQLiteURL returns the URL of a new SQLite file in t's temporary directory.
func SQLiteURL(t testing.TB) string {
	t.Helper()
	return "sqlite:" + filepath.Join(t.TempDir(), "tickflow.db")
}

// PostgresURL returns the URL of the server in EnvPostgres with a schema of
// its own (the store's schema= parameter), dropped at the end of t; it
// skips t when EnvPostgres is unset.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		t.Skipf("%s is unset: skipping the PostgreSQL backend", EnvPostgres)
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := fmt.Sprintf("tickflow_test_%d_%s", os.Getpid(), hex.EncodeToString(b[:]))
	t.Cleanup(func() { DropSchema(t, base, schema) })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("storetest: %s: %v", EnvPostgres, err)
	}
	q := u.Query()
	q.Set("schema", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Schema returns the schema= parameter of a PostgreSQL URL.
func Schema(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return ""
	}
	return u.Query().Get("schema")
}

// Exec runs sql on the PostgreSQL server of dbURL (without its schema=
// parameter), with search_path set to that schema.
func Exec(t testing.TB, dbURL, sql string, args ...any) {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	schema := q.Get("schema")
	q.Del("schema")
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatalf("storetest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if schema != "" {
		if _, err := conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()); err != nil {
			t.Fatalf("storetest: %v", err)
		}
		if _, err := conn.Exec(ctx, `SET search_path TO `+pgx.Identifier{schema}.Sanitize()); err != nil {
			t.Fatalf("storetest: %v", err)
		}
	}
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("storetest: %s: %v", sql, err)
	}
}

// DropSchema drops schema and everything in it from the server at base.
func DropSchema(t testing.TB, base, schema string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Errorf("storetest: drop schema %s: %v", schema, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
		t.Errorf("storetest: drop schema %s: %v", schema, err)
	}
}
