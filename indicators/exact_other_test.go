//go:build !amd64 || amd64.v3

package indicators

// bitExact: here the compiler may fuse a*b+c into an FMA in go-talib and not
// in this package (or the other way round), so values are compared within a
// tolerance; see the package doc.
const bitExact = false
