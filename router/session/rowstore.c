/* rowstore — see rowstore.h. */
#include "router/session/rowstore.h"

#include <errno.h>
#include <string.h>

#include "common/base/sqlstate.h"

void
rowstore_init(struct rowstore *rs, size_t mem_max)
{
    memset(rs, 0, sizeof *rs);
    tl_buf_init(&rs->mem);
    tl_buf_init(&rs->scratch);
    rs->mem_max = mem_max;
}

static int
io_error(struct tl_error *err, const char *what)
{
    return tl_error_set(err, TL_EIO, TL_SQLSTATE_IO_ERROR,
                        "could not %s temporary file of a portal's rows: %s",
                        what, strerror(errno));
}

int
rowstore_appended(struct rowstore *rs, struct tl_error *err)
{
    if (rs->mem.len <= rs->mem_max)
        return 0;
    if (rs->file == NULL && (rs->file = tmpfile()) == NULL)
        return io_error(err, "create");
    if (fwrite(rs->mem.data, 1, rs->mem.len, rs->file) != rs->mem.len)
        return io_error(err, "write");
    rs->file_len += rs->mem.len;
    tl_buf_reset(&rs->mem);
    return 0;
}

int
rowstore_next(struct rowstore *rs, const uint8_t **msg, size_t *len,
              struct tl_error *err)
{
    if (rs->file_at < rs->file_len) {
        uint8_t head[5];
        if (rs->file_at == 0 && fflush(rs->file) != 0)
            return io_error(err, "write");
        if (fseeko(rs->file, (off_t)rs->file_at, SEEK_SET) != 0 ||
            fread(head, 1, sizeof head, rs->file) != sizeof head)
            return io_error(err, "read");
        uint32_t body = tl_load_be32(head + 1);
        if (body < 4)
            return io_error(err, "read");
        tl_buf_reset(&rs->scratch);
        tl_buf_append(&rs->scratch, head, sizeof head);
        uint8_t *dst = tl_buf_reserve(&rs->scratch, body - 4);
        if (fread(dst, 1, body - 4, rs->file) != body - 4)
            return io_error(err, "read");
        rs->scratch.len += body - 4;
        rs->file_at += (uint64_t)body + 1;
        *msg = rs->scratch.data;
        *len = rs->scratch.len;
        return 1;
    }
    if (rs->mem_at >= rs->mem.len)
        return 0;
    uint32_t body = tl_load_be32(rs->mem.data + rs->mem_at + 1);
    *msg = rs->mem.data + rs->mem_at;
    *len = (size_t)body + 1;
    rs->mem_at += *len;
    return 1;
}

bool
rowstore_empty(const struct rowstore *rs)
{
    return rs->file_at >= rs->file_len && rs->mem_at >= rs->mem.len;
}

void
rowstore_reset(struct rowstore *rs)
{
    size_t mem_max = rs->mem_max;
    if (rs->file != NULL)
        fclose(rs->file);
    tl_buf_close(&rs->mem);
    tl_buf_close(&rs->scratch);
    rowstore_init(rs, mem_max);
}
