#!/bin/sh
# Layer rules the compiler cannot check (../docs/architecture.md):
#  - only node/store/ includes RocksDB's header (the include directory of
#    <rocksdb/c.h> is a system one, so a library's link list cannot hide it);
#  - no two .c files of the tree share a stem.
# Exits 1 naming every breach.
cd "$(dirname "$0")/.." || exit 2
rc=0
files=$(git ls-files '*.c' '*.h')
bad=$(echo "$files" | xargs grep -lE '#[[:space:]]*include[[:space:]]*[<"]rocksdb/' |
      grep -v '^node/store/')
if [ -n "$bad" ]; then
    echo "RocksDB included outside node/store/:"
    echo "$bad"
    rc=1
fi
dups=$(git ls-files '*.c' | sed 's|.*/||' | sort | uniq -d)
if [ -n "$dups" ]; then
    echo ".c files sharing a stem:"
    echo "$dups"
    rc=1
fi
[ "$rc" -eq 0 ] && echo "layer rules hold"
exit $rc
