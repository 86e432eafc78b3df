// SPDX-License-Identifier: GPL-2.0-only
/* What tunflow reads from a ClickHouse server: an error answer reduced to its cause
 * (ch_error_text), and a TabSeparated answer parsed into a report's rows and printed in
 * every format (ch_rows_parse, rows_print). The first byte picks the report, whose
 * columns the answer must fill. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "history/backend.h"
#include "history/clickhouse_report.h"
#include "sinks/clickhouse.h"
#include "util/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	struct history_query q = {.limit = 10};
	const struct column *cols;
	char cause[256], err[512];
	struct rows rows;
	size_t ncols;
	char *body;

	if (!size)
		return 0;
	if (!null)
		null = fopen("/dev/null", "w");
	ch_error_text((const char *)data, size, cause, sizeof(cause));
	if (!text_is_clean(cause) || strlen(cause) >= sizeof(cause))
		abort();
	q.kind = data[0] % REP_KIND_MAX;
	q.by = q.kind == REP_TOP ? (data[0] & 0x10 ? BY_NAME : BY_ADDRESS)
	                         : (data[0] & 0x10 ? BY_IFACE : BY_USER);
	q.per = q.kind == REP_USAGE ? (data[0] >> 5) % 3 : PER_NONE;
	cols = report_columns(&q, &ncols);
	rows_init(&rows, cols, ncols);
	body = malloc(size);
	memcpy(body, data + 1, size - 1);
	body[size - 1] = 0;
	if (!ch_rows_parse(body, &rows, err, sizeof(err), "fuzz"))
		for (int f = FMT_TABLE; f <= FMT_CSV; f++)
			rows_print(null, &rows, f);
	rows_free(&rows);
	free(body);
	return 0;
}
