#!/bin/sh
# Layer rules the compiler cannot check (../docs/architecture.md):
#  - only node/store/ includes RocksDB's header (the include directory of
#    <rocksdb/c.h> is a system one, so a library's link list cannot hide it);
#  - the node's layers include only the layers below them (store <- exec;
#    store <- replica <- meta <- rpc; store <- replica <- admin, beside
#    rpc), and node/exec/ never raft or libuv
#    (node/CMakeLists.txt links them so; this says it again for headers
#    that a wider link list would let through);
#  - a node layer's header is included by its folder-qualified path
#    ("node/replica/fsm.h"), never by its bare name;
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
# layer: the node layers it must not include
for rule in "store:exec|replica|meta|rpc|admin" "exec:replica|meta|rpc|admin" \
            "replica:exec|meta|rpc|admin" "meta:exec|rpc|admin" "rpc:admin" \
            "admin:exec|meta|rpc"; do
    layer=${rule%%:*}
    banned=${rule#*:}
    [ -n "$banned" ] || continue
    bad=$(git ls-files "node/$layer/*.c" "node/$layer/*.h" |
          xargs grep -lE "#[[:space:]]*include[[:space:]]*\"node/($banned)/")
    if [ -n "$bad" ]; then
        echo "node/$layer/ includes a layer above it or beside it ($banned):"
        echo "$bad"
        rc=1
    fi
done
bad=$(git ls-files 'node/exec/*.c' 'node/exec/*.h' |
      xargs grep -lE '#[[:space:]]*include[[:space:]]*<(raft|uv)[./]')
if [ -n "$bad" ]; then
    echo "node/exec/ includes raft or libuv:"
    echo "$bad"
    rc=1
fi
names=$(git ls-files 'node/*/*.h' | sed 's|.*/||' | sed 's/[.]/[.]/g' |
        paste -sd'|')
bad=$(echo "$files" | xargs grep -nE "#[[:space:]]*include[[:space:]]*\"($names)\"")
if [ -n "$bad" ]; then
    echo "node layer headers included by a bare name (write node/<layer>/...):"
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
