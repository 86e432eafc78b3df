/* SPDX-License-Identifier: GPL-2.0-only */
/* What the ClickHouse backend of `tunflow report` reads from the server, for its fuzz
 * target (the backend itself: clickhouse_backend_open() in history/backend.h). */
#ifndef TUNFLOW_CLICKHOUSE_REPORT_H
#define TUNFLOW_CLICKHOUSE_REPORT_H

#include <stddef.h>
#include "history/backend.h"

/* A TabSeparated answer (body, NUL-terminated, changed in place) into out's rows by the
 * column types: text unescaped ("" as unknown), numbers, times in ms made ns. 0, or
 * -EPROTO with one line in err (naming server) for a line of another width. */
int ch_rows_parse(char *body, struct rows *out, char *err, size_t errlen, const char *server);

#endif
