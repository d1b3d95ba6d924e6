#!/bin/sh
# build.sh builds TA-Lib C from the source in the npm package talib@2.0.5 and
# the oracle (oracle.c beside this script) that the TA-Lib C tests of both
# indicator families run, then prints the oracle's path and nothing else on
# stdout:
#
#	TICKFLOW_TEST_TALIB=$(indicators/testdata/talibc/build.sh [DIR]) go test ./indicators/
#
# DIR (default $TMPDIR/tickflow-talibc) caches the download, the library and
# the oracle: a second run does nothing but print the path, and rebuilds only
# the oracle when oracle.c changed. Needs npm (and the npm registry), make and
# g++ (whose Debian package brings gcc, which TA-Lib's makefile calls).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-${TMPDIR:-/tmp}/tickflow-talibc}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
lib=$dir/package/src/lib
archive=$lib/lib/libta_libc_csr.a
stamp=$dir/talib-2.0.5.built # written only after a complete build

if [ ! -f "$stamp" ]; then
	cd "$dir"
	if [ ! -f talib-2.0.5.tgz ]; then
		npm pack --silent talib@2.0.5 >/dev/null
	fi
	rm -rf package
	tar xzf talib-2.0.5.tgz
	# The package ships objects and archives built for macOS: build our own.
	find "$lib/temp/csr" -name '*.o' -delete
	rm -f "$lib"/lib/*.a
	(cd "$lib/make/csr/linux/g++" && make -j2 >"$dir/make.log" 2>&1) || {
		tail -20 "$dir/make.log" >&2
		exit 1
	}
	[ -f "$archive" ] || {
		echo "build.sh: make wrote no $archive (see $dir/make.log)" >&2
		exit 1
	}
	rm -f "$dir/oracle"
	touch "$stamp"
fi
if [ ! -x "$dir/oracle" ] || [ "$here/oracle.c" -nt "$dir/oracle" ]; then
	# TA-Lib's archives are compiled as C++: so is the oracle. Build to a
	# temporary name so an interrupted build leaves no half-written oracle.
	g++ -O2 -x c++ -fpermissive -w -I"$lib/include" -o "$dir/oracle.tmp" "$here/oracle.c" -x none "$archive" -lm
	mv "$dir/oracle.tmp" "$dir/oracle"
fi
echo "$dir/oracle"
