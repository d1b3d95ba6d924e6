#!/bin/sh
# build.sh builds TA-Lib C from the source in the npm package talib@2.0.5 and
# the oracle that talibc_test.go runs, then prints the oracle's path:
#
#	TICKFLOW_TEST_TALIB=$(indicators/testdata/talibc/build.sh [DIR]) go test ./indicators/
#
# DIR (default $TMPDIR/tickflow-talibc) holds the download and the build; a
# second run reuses the download. Needs npm, make and g++.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-${TMPDIR:-/tmp}/tickflow-talibc}
mkdir -p "$dir"
cd "$dir"
if [ ! -f talib-2.0.5.tgz ]; then
	npm pack --silent talib@2.0.5 >/dev/null
fi
rm -rf package
tar xzf talib-2.0.5.tgz
lib=$dir/package/src/lib
# The package ships objects and archives built for macOS: build our own.
find "$lib/temp/csr" -name '*.o' -delete
rm -f "$lib"/lib/*.a
(cd "$lib/make/csr/linux/g++" && make -j2 >"$dir/make.log" 2>&1) || {
	tail -20 "$dir/make.log" >&2
	exit 1
}
# TA-Lib's archives are compiled as C++: so is the oracle.
g++ -O2 -x c++ -fpermissive -w -I"$lib/include" -o "$dir/oracle" "$here/oracle.c" -x none "$lib/lib/libta_libc_csr.a" -lm
echo "$dir/oracle"
