package store_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tickflow/tickflow/store"
)

func TestOpenExistingRefusesAMissingFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "no", "such", "bars.db")
	_, err := store.OpenExisting(ctx, "sqlite:"+path)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("error %v, want one line naming %s and wrapping fs.ErrNotExist", err, path)
	}
	if _, err := os.Stat(filepath.Join(dir, "no")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenExisting made folders: %v", err)
	}
	if _, err := store.OpenExisting(ctx, "mysql://x"); !errors.Is(err, store.ErrURL) {
		t.Errorf("bad URL: %v, want ErrURL", err)
	}

	// Once Open has made it, OpenExisting opens it.
	st, err := store.Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = store.OpenExisting(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatalf("OpenExisting of an existing file: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}
