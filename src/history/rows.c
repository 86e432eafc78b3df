// SPDX-License-Identifier: GPL-2.0-only
/* The columns of each report, and rows printed as a table, JSON lines or CSV: the one
 * place `tunflow report` writes, whichever backend answered. */
#include <errno.h>
#include <string.h>
#include <time.h>
#include "history/backend.h"
#include "util/fmt.h"
#include "util/text.h"

#define TOTALS                                                                                     \
	{"bytes_in", COL_BYTES}, {"bytes_out", COL_BYTES}, {"packets_in", COL_INT},                \
	    {"packets_out", COL_INT},                                                              \
	{                                                                                          \
		"flows", COL_INT                                                                   \
	}

/* usage: [day | hour], user or iface, totals; [by][per] */
static const struct column usage[2][3][7] = {
    {{{"user", COL_TEXT}, TOTALS},
     {{"day", COL_DAY}, {"user", COL_TEXT}, TOTALS},
     {{"hour", COL_HOUR}, {"user", COL_TEXT}, TOTALS}},
    {{{"iface", COL_TEXT}, TOTALS},
     {{"day", COL_DAY}, {"iface", COL_TEXT}, TOTALS},
     {{"hour", COL_HOUR}, {"iface", COL_TEXT}, TOTALS}},
};
static const struct column top_addr[] = {{"user", COL_TEXT},  {"address", COL_TEXT},
                                         {"name", COL_TEXT},  TOTALS,
                                         {"first", COL_TIME}, {"last", COL_TIME}};
static const struct column top_name[] = {{"user", COL_TEXT},     {"name", COL_TEXT},
                                         {"addresses", COL_INT}, TOTALS,
                                         {"first", COL_TIME},    {"last", COL_TIME}};
static const struct column who[] = {
    {"user", COL_TEXT}, {"first", COL_TIME}, {"last", COL_TIME}, {"addresses", COL_INT}, TOTALS};
static const struct column sessions[] = {
    {"user", COL_TEXT},       {"iface", COL_TEXT},       {"connect", COL_TIME},
    {"disconnect", COL_TIME}, {"duration", COL_SECONDS}, {"bytes_in", COL_BYTES},
    {"bytes_out", COL_BYTES}, {"packets_in", COL_INT},   {"packets_out", COL_INT},
    {"end", COL_TEXT},        {"gateway", COL_TEXT}};

#define N(a) (sizeof(a) / sizeof(a[0]))

const struct column *report_columns(const struct history_query *q, size_t *n)
{
	switch (q->kind) {
	case REP_USAGE:
		*n = q->per == PER_NONE ? 6 : 7;
		return usage[q->by == BY_IFACE][q->per];
	case REP_TOP:
		if (q->by == BY_NAME) {
			*n = N(top_name);
			return top_name;
		}
		*n = N(top_addr);
		return top_addr;
	case REP_WHO:
		*n = N(who);
		return who;
	default:
		*n = N(sessions);
		return sessions;
	}
}

void rows_init(struct rows *r, const struct column *cols, size_t ncols)
{
	r->cols = cols;
	r->ncols = ncols;
	r->cells = g_array_new(FALSE, TRUE, sizeof(struct cell));
	r->texts = g_string_chunk_new(4096);
}

void rows_add(struct rows *r, const struct cell *cells)
{
	for (size_t i = 0; i < r->ncols; i++) {
		struct cell c = cells[i];

		if (r->cols[i].type == COL_TEXT) {
			c.null = !c.s;
			if (c.s) { /* a history is outside input: cleaned as it comes in */
				char *clean = text_clean(c.s, strlen(c.s), TEXT_NAME_MAX);

				c.s = g_string_chunk_insert_const(r->texts, clean);
				g_free(clean);
			}
		}
		g_array_append_val(r->cells, c);
	}
}

size_t rows_count(const struct rows *r) { return r->ncols ? r->cells->len / r->ncols : 0; }

const struct cell *rows_row(const struct rows *r, size_t i)
{
	return &g_array_index(r->cells, struct cell, i * r->ncols);
}

void rows_free(struct rows *r)
{
	if (r->cells)
		g_array_free(r->cells, TRUE);
	if (r->texts)
		g_string_chunk_free(r->texts);
	r->cells = NULL;
	r->texts = NULL;
}

/* A value as plain text (table and CSV; JSON for the times). */
static const char *cell_text(const struct column *col, const struct cell *c, bool human, char *buf,
                             size_t len)
{
	time_t t;
	struct tm tm;

	if (c->null)
		return NULL;
	switch (col->type) {
	case COL_TEXT:
		return c->s;
	case COL_BYTES:
		if (human) {
			fmt_si((double)c->i, buf, len);
			return buf;
		}
		/* fall through */
	case COL_INT:
		snprintf(buf, len, "%lld", (long long)c->i);
		return buf;
	case COL_TIME:
		fmt_time((__u64)c->i, buf);
		return buf;
	case COL_DAY:
	case COL_HOUR:
		t = (time_t)(c->i / 1000000000);
		gmtime_r(&t, &tm);
		strftime(buf, len, col->type == COL_DAY ? "%Y-%m-%d" : "%Y-%m-%dT%H:00Z", &tm);
		return buf;
	case COL_SECONDS:
		snprintf(buf, len, "%lld.%03lld", (long long)(c->i / 1000000000),
		         (long long)(c->i % 1000000000 / 1000000));
		return buf;
	}
	return NULL;
}

static bool numeric(enum col_type t) { return t == COL_INT || t == COL_BYTES || t == COL_SECONDS; }

static void print_table(FILE *out, const struct rows *r)
{
	size_t n = rows_count(r), *w = g_new0(size_t, r->ncols);
	char buf[64];

	for (size_t c = 0; c < r->ncols; c++)
		w[c] = strlen(r->cols[c].name);
	for (size_t i = 0; i < n; i++)
		for (size_t c = 0; c < r->ncols; c++) {
			const char *s =
			    cell_text(&r->cols[c], &rows_row(r, i)[c], true, buf, sizeof(buf));
			size_t l = s ? g_utf8_strlen(s, -1) : 1;

			if (l > w[c])
				w[c] = l;
		}
	for (size_t c = 0; c < r->ncols; c++)
		fprintf(out, "%s%-*s", c ? "  " : "", c + 1 < r->ncols ? (int)w[c] : 0,
		        r->cols[c].name);
	fputc('\n', out);
	for (size_t i = 0; i < n; i++) {
		for (size_t c = 0; c < r->ncols; c++) {
			const char *s =
			    cell_text(&r->cols[c], &rows_row(r, i)[c], true, buf, sizeof(buf));
			/* width in characters: pad by hand for UTF-8 text */
			size_t l = s ? g_utf8_strlen(s, -1) : 1;
			size_t pad = w[c] > l ? w[c] - l : 0;

			if (c)
				fputs("  ", out);
			if (numeric(r->cols[c].type))
				fprintf(out, "%*s%s", (int)pad, "", s ? s : "-");
			else
				fprintf(out, "%s%*s", s ? s : "-", c + 1 < r->ncols ? (int)pad : 0,
				        "");
		}
		fputc('\n', out);
	}
	g_free(w);
}

static void print_json(FILE *out, const struct rows *r)
{
	char buf[64];

	for (size_t i = 0; i < rows_count(r); i++) {
		const struct cell *row = rows_row(r, i);

		for (size_t c = 0; c < r->ncols; c++) {
			const struct column *col = &r->cols[c];
			const char *s = cell_text(col, &row[c], false, buf, sizeof(buf));

			fprintf(out, "%s\"%s\":", c ? "," : "{", col->name);
			if (!s)
				fputs("null", out);
			else if (numeric(col->type))
				fputs(s, out);
			else
				json_str(out, s);
		}
		fputs("}\n", out);
	}
}

static void print_csv(FILE *out, const struct rows *r)
{
	char buf[64];

	for (size_t c = 0; c < r->ncols; c++)
		fprintf(out, "%s%s", c ? "," : "", r->cols[c].name);
	fputc('\n', out);
	for (size_t i = 0; i < rows_count(r); i++) {
		const struct cell *row = rows_row(r, i);

		for (size_t c = 0; c < r->ncols; c++) {
			const char *s = cell_text(&r->cols[c], &row[c], false, buf, sizeof(buf));

			if (c)
				fputc(',', out);
			if (s)
				csv_str(out, s);
		}
		fputc('\n', out);
	}
}

int rows_print(FILE *out, const struct rows *r, enum report_format fmt)
{
	if (fmt == FMT_JSON)
		print_json(out, r);
	else if (fmt == FMT_CSV)
		print_csv(out, r);
	else
		print_table(out, r);
	return out_check(out);
}
