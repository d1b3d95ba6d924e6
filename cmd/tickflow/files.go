package main

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tickflow/tickflow/market"
)

// writeFileAtomic writes path through a temporary file beside it, renamed
// over path only once write and close succeeded: a failure never leaves a
// half-written file nor destroys the one already there.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = write(f); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil { // CreateTemp makes 0600; these are reports, not secrets
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// appendBarCSV appends one CSV row; numbers in the shortest form that
// reads back to the same float64.
func appendBarCSV(b []byte, bar market.Bar) []byte {
	b = append(b, bar.Symbol...)
	b = append(b, ',')
	b = bar.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	for _, v := range []float64{bar.Open, bar.High, bar.Low, bar.Close, bar.Volume} {
		b = append(b, ',')
		b = strconv.AppendFloat(b, v, 'f', -1, 64)
	}
	return append(b, '\n')
}
