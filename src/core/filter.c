// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE /* FNM_CASEFOLD */
/* Filter expressions: a hand-written recursive descent parser into a small tree (and /
 * or nodes hold their operands in a list, so the tree is only as deep as the nesting),
 * and its evaluation on a flow or a record. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <glib.h>
#include "core/filter.h"
#include "core/flowtab.h"
#include "core/records.h"
#include "sources/ifwatch.h"
#include "util/addr.h"
#include "util/fmt.h"
#include "util/text.h"

#define FILTER_MAX_DEPTH 64 /* nested parentheses and 'not's */

enum kind {
	K_TRUE,
	K_AND,
	K_OR,
	K_NOT,
	K_USER,
	K_IFACE,
	K_NAME,
	K_PROTO,
	K_PORT,
	K_HOST, /* a host is a net of all its bits */
	K_DIR,
	K_IPVER,
	K_ASN,
	K_COUNTRY,
	K_BYTES,
	K_PACKETS,
};

enum side { SIDE_ANY, SIDE_SRC, SIDE_DST, SIDE_LOCAL, SIDE_REMOTE };

enum cmp { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE };

struct node {
	enum kind kind;
	enum side side;
	enum cmp cmp;
	__u8 ip_version; /* K_HOST (and net), K_IPVER */
	__u8 bits;       /* K_HOST: prefix length over the 16 stored bytes */
	__u8 addr[16];
	__u64 num;          /* proto, port, dir, asn, bytes, packets */
	char *text;         /* user, iface, name globs; country */
	bool literal;       /* text holds no glob character: compared, not matched */
	struct node **kids; /* K_AND, K_OR: n of them; K_NOT: one */
	size_t nkids;
};

struct filter {
	struct node *root;
	char *text;
};

/* ---- tokens ---- */

enum tok_kind { T_END, T_WORD, T_STR, T_LP, T_RP, T_NOT, T_AND, T_OR, T_CMP };

struct tok {
	enum tok_kind kind;
	const char *s; /* in the expression; T_STR: without its quotes, escapes still in */
	size_t len;
	size_t col;  /* 1-based */
	size_t next; /* offset just past it */
};

struct parser {
	const char *in;
	size_t pos;
	struct tok t; /* the token at pos */
	char *err;
	size_t errlen;
	bool failed;
	int depth;
};

static void say(struct parser *p, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(struct parser *p, size_t col, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (p->failed)
		return;
	p->failed = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "filter: at column %zu: %s", col, msg);
}

/* The token after offset i into *t; false (said) for an unclosed quote. */
static bool lex(struct parser *p, size_t i, struct tok *t)
{
	const char *s = p->in;

	while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
		i++;
	memset(t, 0, sizeof(*t));
	t->s = s + i;
	t->col = i + 1;
	switch (s[i]) {
	case 0:
		t->kind = T_END;
		t->next = i;
		return true;
	case '(':
	case ')':
		t->kind = s[i] == '(' ? T_LP : T_RP;
		t->len = 1;
		break;
	case '"': {
		size_t j = i + 1;

		while (s[j] && s[j] != '"')
			j += s[j] == '\\' && s[j + 1] ? 2 : 1;
		if (!s[j]) {
			say(p, t->col, "expected a closing '\"' for the string opened here");
			return false;
		}
		t->kind = T_STR;
		t->s = s + i + 1;
		t->len = j - i - 1;
		t->next = j + 1;
		return true;
	}
	case '!':
		t->kind = s[i + 1] == '=' ? T_CMP : T_NOT;
		t->len = s[i + 1] == '=' ? 2 : 1;
		break;
	case '<':
	case '>':
	case '=':
		t->kind = T_CMP;
		t->len = s[i + 1] == '=' ? 2 : 1;
		break;
	default:
		if ((s[i] == '&' && s[i + 1] == '&') || (s[i] == '|' && s[i + 1] == '|')) {
			t->kind = s[i] == '&' ? T_AND : T_OR;
			t->len = 2;
			break;
		}
		t->kind = T_WORD;
		while (s[i + t->len] && !strchr(" \t\r\n()<>", s[i + t->len]))
			t->len++;
		/* "a==b": one word; "port!=443" reads as "port" "!=" "443" */
		for (size_t k = 1; k + 1 < t->len; k++)
			if (s[i + k] == '!' && s[i + k + 1] == '=') {
				t->len = k;
				break;
			}
		break;
	}
	t->next = i + t->len;
	return true;
}

static void advance(struct parser *p)
{
	p->pos = p->t.next;
	if (!lex(p, p->pos, &p->t)) {
		p->t.kind = T_END;
		p->t.len = 0;
	}
}

static bool is_word(const struct tok *t, const char *w)
{
	return t->kind == T_WORD && t->len == strlen(w) && !strncasecmp(t->s, w, t->len);
}

/* What was found instead, for a message: "the end" or 'TEXT' (cleaned, cut). */
static void got(const struct tok *t, char *buf, size_t len)
{
	char *c;

	if (t->kind == T_END) {
		snprintf(buf, len, "the end");
		return;
	}
	c = text_clean(t->s - (t->kind == T_STR), t->len + 2 * (t->kind == T_STR), 40);
	snprintf(buf, len, "'%s'", c);
	g_free(c);
}

/* The token's text (a quoted string unescaped) as a new string. */
static char *tok_text(const struct tok *t)
{
	char *r = g_malloc(t->len + 1), *o = r;

	for (size_t i = 0; i < t->len; i++) {
		if (t->kind == T_STR && t->s[i] == '\\' && i + 1 < t->len)
			i++;
		*o++ = t->s[i];
	}
	*o = 0;
	return r;
}

/* A value: a word that is not an operator word, or a quoted string. */
static bool is_value(const struct tok *t)
{
	return t->kind == T_STR ||
	       (t->kind == T_WORD && !is_word(t, "and") && !is_word(t, "or") && !is_word(t, "not"));
}

/* ---- nodes ---- */

static void node_free(struct node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	g_free(n->kids);
	g_free(n->text);
	g_free(n);
}

static struct node *node_new(enum kind kind)
{
	struct node *n = g_new0(struct node, 1);

	n->kind = kind;
	return n;
}

static void node_add(struct node *n, struct node *kid)
{
	n->kids = g_renew(struct node *, n->kids, n->nkids + 1);
	n->kids[n->nkids++] = kid;
}

/* ---- values ---- */

/* A whole number of the token's text, up to max, with a k/M/G/T suffix (powers of
 * 1000) when si. */
static bool parse_num(const struct tok *t, __u64 max, bool si, __u64 *v)
{
	__u64 n = 0, mul = 1;
	size_t len = t->len;

	if (t->kind != T_WORD || !len)
		return false;
	if (si && !isdigit((unsigned char)t->s[len - 1])) {
		switch (t->s[len - 1]) {
		case 'k':
		case 'K':
			mul = 1000ull;
			break;
		case 'm':
		case 'M':
			mul = 1000000ull;
			break;
		case 'g':
		case 'G':
			mul = 1000000000ull;
			break;
		case 't':
		case 'T':
			mul = 1000000000000ull;
			break;
		default:
			return false;
		}
		len--;
	}
	if (!len)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)t->s[i]))
			return false;
		if (n > (max - (t->s[i] - '0')) / 10)
			return false;
		n = n * 10 + (t->s[i] - '0');
	}
	if (n > max / mul)
		return false;
	*v = n * mul;
	return true;
}

static const struct {
	const char *name;
	__u8 proto;
} protos[] = {
    {"tcp", 6},       {"udp", 17},   {"icmp", 1}, {"icmp6", 58}, {"ipv6-icmp", 58}, {"sctp", 132},
    {"udplite", 136}, {"udpl", 136}, {"gre", 47}, {"esp", 50},   {"ah", 51},
};

static bool proto_of(const struct tok *t, __u8 *proto)
{
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (is_word(t, protos[i].name)) {
			*proto = protos[i].proto;
			return true;
		}
	return false;
}

/* ADDR or, with prefix, ADDR/LEN into n (IPv4 stored mapped, as flow keys hold it). */
static bool parse_addr(const struct tok *t, bool prefix, struct node *n)
{
	char buf[64];
	int plen;

	if (t->kind != T_WORD || t->len >= sizeof(buf))
		return false;
	memcpy(buf, t->s, t->len);
	buf[t->len] = 0;
	if ((strchr(buf, '/') != NULL) != prefix || !addr_parse(buf, n->addr, &plen))
		return false;
	n->ip_version = strchr(buf, ':') ? 6 : 4;
	n->bits = plen;
	for (int b = n->bits; b < 128; b++) /* host bits of a net are ignored */
		n->addr[b / 8] &= ~(0x80 >> (b % 8));
	return true;
}

/* ---- grammar ----
 * expr := and { ("or" | "||") and }
 * and  := not { ("and" | "&&") not }
 * not  := ("not" | "!") not | "(" expr ")" | term */

static struct node *parse_or(struct parser *p);

static const char fields_want[] =
    "a field (user, iface, proto, port, host, net, dir, ip4, ip6, name, as, country, "
    "bytes, packets), 'not' or '('";

/* The token after the keyword kw must be a value: else say so. A glob may start with
 * '=' (an interface's name literally, as on the command line) or '!': read it as a
 * word. */
static bool want_value(struct parser *p, const char *kw, const char *what)
{
	char g[64];

	if (p->t.kind == T_CMP || p->t.kind == T_NOT) {
		size_t i = p->t.col - 1, len = 0;

		while (p->in[i + len] && !strchr(" \t\r\n()", p->in[i + len]))
			len++;
		p->t.kind = T_WORD;
		p->t.len = len;
		p->t.next = i + len;
	}

	if (is_value(&p->t))
		return true;
	got(&p->t, g, sizeof(g));
	say(p, p->t.col, "expected %s after '%s', got %s", what, kw, g);
	return false;
}

static void bad_value(struct parser *p, const char *kw, const char *what)
{
	char g[64];

	got(&p->t, g, sizeof(g));
	say(p, p->t.col, "expected %s after '%s', got %s", what, kw, g);
}

static bool parse_cmp(struct parser *p, enum cmp *c)
{
	static const struct {
		const char *s;
		enum cmp c;
	} ops[] = {{"=", CMP_EQ},  {"==", CMP_EQ}, {"!=", CMP_NE}, {"<", CMP_LT},
	           {"<=", CMP_LE}, {">", CMP_GT},  {">=", CMP_GE}};

	if (p->t.kind != T_CMP)
		return false;
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (p->t.len == strlen(ops[i].s) && !strncmp(p->t.s, ops[i].s, p->t.len)) {
			*c = ops[i].c;
			return true;
		}
	return false;
}

/* [src|dst|local|remote] port|host|net VALUE */
static struct node *parse_endpoint(struct parser *p, enum side side, const char *kw)
{
	struct node *n;
	char word[8];

	snprintf(word, sizeof(word), "%.*s", (int)p->t.len, p->t.s);
	for (char *c = word; *c; c++)
		*c = tolower((unsigned char)*c);
	if (!strcmp(word, "port")) {
		n = node_new(K_PORT);
		n->side = side;
		advance(p);
		if (parse_cmp(p, &n->cmp))
			advance(p);
		if (!parse_num(&p->t, 65535, false, &n->num)) {
			bad_value(p, "port", "a port number (0 to 65535)");
			node_free(n);
			return NULL;
		}
	} else if (!strcmp(word, "host") || !strcmp(word, "net")) {
		bool net = word[0] == 'n';

		n = node_new(K_HOST);
		n->side = side;
		advance(p);
		if (!parse_addr(&p->t, net, n)) {
			bad_value(p, net ? "net" : "host",
			          net ? "an address/prefix length (198.51.100.0/24, 2001:db8::/32)"
			              : "an IPv4 or IPv6 address (names are not looked up: use "
			                "'name')");
			node_free(n);
			return NULL;
		}
	} else {
		bad_value(p, kw, "'port', 'host' or 'net'");
		return NULL;
	}
	advance(p);
	return n;
}

static struct node *parse_term(struct parser *p)
{
	static const struct {
		const char *w;
		enum side side;
	} sides[] = {
	    {"src", SIDE_SRC}, {"dst", SIDE_DST}, {"local", SIDE_LOCAL}, {"remote", SIDE_REMOTE}};
	struct tok kw = p->t;
	char kwbuf[16], g[64];
	struct node *n = NULL;
	__u8 proto;

	if (kw.kind != T_WORD)
		goto unknown;
	snprintf(kwbuf, sizeof(kwbuf), "%.*s", (int)(kw.len < 15 ? kw.len : 15), kw.s);
	for (char *c = kwbuf; *c; c++)
		*c = tolower((unsigned char)*c);
	for (size_t i = 0; i < sizeof(sides) / sizeof(sides[0]); i++)
		if (is_word(&kw, sides[i].w)) {
			advance(p);
			return parse_endpoint(p, sides[i].side, sides[i].w);
		}
	if (is_word(&kw, "port") || is_word(&kw, "host") || is_word(&kw, "net"))
		return parse_endpoint(p, SIDE_ANY, kwbuf);
	if (is_word(&kw, "any") || is_word(&kw, "all")) {
		advance(p);
		return node_new(K_TRUE);
	}
	if (proto_of(&kw, &proto)) {
		n = node_new(K_PROTO);
		n->num = proto;
		advance(p);
		return n;
	}
	if (is_word(&kw, "ip4") || is_word(&kw, "ipv4") || is_word(&kw, "inet") ||
	    is_word(&kw, "ip6") || is_word(&kw, "ipv6") || is_word(&kw, "inet6")) {
		n = node_new(K_IPVER);
		n->ip_version = strchr(kwbuf, '6') ? 6 : 4;
		advance(p);
		return n;
	}
	if (is_word(&kw, "user") || is_word(&kw, "iface") || is_word(&kw, "name")) {
		n = node_new(kwbuf[0] == 'u' ? K_USER : kwbuf[0] == 'i' ? K_IFACE : K_NAME);
		advance(p);
		if (!want_value(p, kwbuf,
		                n->kind == K_USER ? "a user name or glob"
		                : n->kind == K_IFACE
		                    ? "an interface name or glob"
		                    : "a destination name or glob (*.example.com)"))
			goto fail;
		n->text = tok_text(&p->t);
		n->literal = !strpbrk(n->text, "*?[\\");
		advance(p);
		return n;
	}
	if (is_word(&kw, "proto")) {
		n = node_new(K_PROTO);
		advance(p);
		if (proto_of(&p->t, &proto))
			n->num = proto;
		else if (!parse_num(&p->t, 255, false, &n->num)) {
			bad_value(
			    p, "proto",
			    "a protocol name (tcp, udp, icmp, icmp6, sctp, udplite, gre, esp, "
			    "ah) or number (0 to 255)");
			goto fail;
		}
		advance(p);
		return n;
	}
	if (is_word(&kw, "dir")) {
		n = node_new(K_DIR);
		advance(p);
		if (is_word(&p->t, "ingress") || is_word(&p->t, "in"))
			n->num = DIR_INGRESS;
		else if (is_word(&p->t, "egress") || is_word(&p->t, "out"))
			n->num = DIR_EGRESS;
		else {
			bad_value(p, "dir", "ingress or egress");
			goto fail;
		}
		advance(p);
		return n;
	}
	if (is_word(&kw, "as") || is_word(&kw, "asn")) {
		struct tok t;

		n = node_new(K_ASN);
		advance(p);
		t = p->t;
		if (t.kind == T_WORD && t.len > 2 && !strncasecmp(t.s, "as", 2)) {
			t.s += 2;
			t.len -= 2;
		}
		if (!parse_num(&t, 0xffffffffull, false, &n->num) || !n->num) {
			bad_value(p, kwbuf, "an AS number (1 to 4294967295)");
			goto fail;
		}
		advance(p);
		return n;
	}
	if (is_word(&kw, "country")) {
		n = node_new(K_COUNTRY);
		advance(p);
		if (p->t.kind != T_WORD || p->t.len != 2 || !isalpha((unsigned char)p->t.s[0]) ||
		    !isalpha((unsigned char)p->t.s[1])) {
			bad_value(p, "country", "a two-letter country code (DE, US, ...)");
			goto fail;
		}
		n->text = g_ascii_strup(p->t.s, 2);
		advance(p);
		return n;
	}
	if (is_word(&kw, "bytes") || is_word(&kw, "packets")) {
		struct tok op;

		n = node_new(kwbuf[0] == 'b' ? K_BYTES : K_PACKETS);
		advance(p);
		op = p->t;
		if (!parse_cmp(p, &n->cmp)) {
			bad_value(p, kwbuf, "a comparison (>, >=, <, <=, =, !=)");
			goto fail;
		}
		advance(p);
		if (!parse_num(&p->t, ~0ull, true, &n->num)) {
			snprintf(kwbuf, sizeof(kwbuf), "%.*s", (int)op.len, op.s);
			bad_value(p, kwbuf, "a number (with k, M, G or T for thousands, ...)");
			goto fail;
		}
		advance(p);
		return n;
	}
unknown:
	got(&kw, g, sizeof(g));
	say(p, kw.col, "expected %s, got %s", fields_want, g);
fail:
	node_free(n);
	return NULL;
}

static struct node *parse_not(struct parser *p)
{
	struct node *n = NULL, *kid;
	bool nests = p->t.kind == T_NOT || is_word(&p->t, "not") || p->t.kind == T_LP;

	if (nests && ++p->depth > FILTER_MAX_DEPTH) {
		say(p, p->t.col, "expected at most %d nested parentheses and 'not's",
		    FILTER_MAX_DEPTH);
		goto out;
	}
	if (!nests) {
		n = parse_term(p);
		return n;
	}
	if (p->t.kind == T_NOT || is_word(&p->t, "not")) {
		advance(p);
		kid = parse_not(p);
		if (kid) {
			n = node_new(K_NOT);
			node_add(n, kid);
		}
	} else if (p->t.kind == T_LP) {
		struct tok open = p->t;

		advance(p);
		n = parse_or(p);
		if (n && p->t.kind != T_RP) {
			char g[64];

			got(&p->t, g, sizeof(g));
			say(p, p->t.col,
			    "expected 'and', 'or' or ')' to close the '(' of column %zu, got %s",
			    open.col, g);
			node_free(n);
			n = NULL;
		} else if (n) {
			advance(p);
		}
	}
out:
	p->depth--;
	return n;
}

/* kind K_AND or K_OR: operands of one level, joined by w (or its symbol t) */
static struct node *parse_list(struct parser *p, enum kind kind)
{
	const char *w = kind == K_AND ? "and" : "or";
	enum tok_kind t = kind == K_AND ? T_AND : T_OR;
	struct node *first = kind == K_AND ? parse_not(p) : parse_list(p, K_AND), *n = NULL;

	if (!first)
		return NULL;
	while (p->t.kind == t || is_word(&p->t, w)) {
		struct node *next;

		advance(p);
		next = kind == K_AND ? parse_not(p) : parse_list(p, K_AND);
		if (!next) {
			node_free(n ? n : first);
			return NULL;
		}
		if (!n) {
			n = node_new(kind);
			node_add(n, first);
		}
		node_add(n, next);
	}
	return n ? n : first;
}

static struct node *parse_or(struct parser *p) { return parse_list(p, K_OR); }

struct filter *filter_parse(const char *expr, char *err, size_t errlen)
{
	struct parser p = {.in = expr, .err = err, .errlen = errlen};
	struct filter *f;
	struct node *root;

	if (errlen)
		err[0] = 0;
	if (!lex(&p, 0, &p.t))
		return NULL;
	if (p.t.kind == T_END) {
		root = node_new(K_TRUE);
	} else {
		root = parse_or(&p);
		if (root && p.t.kind != T_END) {
			char g[64];

			got(&p.t, g, sizeof(g));
			say(&p, p.t.col,
			    p.t.kind == T_RP ? "expected the end (this ')' closes nothing), got %s"
			                     : "expected 'and', 'or' or the end, got %s",
			    g);
			node_free(root);
			root = NULL;
		}
	}
	if (root && p.failed) { /* an unclosed quote after a whole expression */
		node_free(root);
		root = NULL;
	}
	if (!root)
		return NULL;
	f = g_new0(struct filter, 1);
	f->root = root;
	f->text = g_strdup(expr);
	return f;
}

void filter_free(struct filter *f)
{
	if (!f)
		return;
	node_free(f->root);
	g_free(f->text);
	g_free(f);
}

const char *filter_text(const struct filter *f) { return f ? f->text : ""; }

/* ---- evaluation ---- */

/* What a filter looks at, of a flow or of a record. */
struct view {
	const struct flow_key *k;
	const char *user;
	const struct dest_info *dest;
	__u64 bytes, packets;
};

static bool compare(__u64 a, enum cmp c, __u64 b)
{
	switch (c) {
	case CMP_EQ:
		return a == b;
	case CMP_NE:
		return a != b;
	case CMP_LT:
		return a < b;
	case CMP_LE:
		return a <= b;
	case CMP_GT:
		return a > b;
	case CMP_GE:
		return a >= b;
	}
	return false;
}

static bool in_net(const struct node *n, const __u8 *a)
{
	size_t full = n->bits / 8;

	if (memcmp(a, n->addr, full) != 0)
		return false;
	return n->bits % 8 == 0 || !((a[full] ^ n->addr[full]) & (0xff00 >> (n->bits % 8)));
}

/* The address (src: true) or port of the side the node names, for one of the two
 * ends: which = 0 the first, 1 the second (SIDE_ANY looks at both). */
static bool side_is_src(const struct flow_key *k, enum side side, int which)
{
	switch (side) {
	case SIDE_SRC:
		return true;
	case SIDE_DST:
		return false;
	case SIDE_LOCAL:
		return flow_near(k) == k->src;
	case SIDE_REMOTE:
		return flow_far(k) == k->src;
	case SIDE_ANY:
		break;
	}
	return which == 0;
}

static bool glob(const struct node *n, const char *s, int flags)
{
	if (!s)
		return false;
	if (n->literal)
		return flags & FNM_CASEFOLD ? !strcasecmp(n->text, s) : !strcmp(n->text, s);
	return !strcmp(n->text, s) || !fnmatch(n->text, s, flags);
}

static bool eval(const struct node *n, const struct view *v)
{
	const struct flow_key *k = v->k;
	int ends = 0;

	switch (n->kind) {
	case K_TRUE:
		return true;
	case K_AND:
		for (size_t i = 0; i < n->nkids; i++)
			if (!eval(n->kids[i], v))
				return false;
		return true;
	case K_OR:
		for (size_t i = 0; i < n->nkids; i++)
			if (eval(n->kids[i], v))
				return true;
		return false;
	case K_NOT:
		return !eval(n->kids[0], v);
	case K_USER:
		return glob(n, v->user, 0);
	case K_IFACE: {
		const char *name = iface_name(k->ifindex);

		/* as on the command line: =NAME is NAME literally */
		return n->text[0] == '=' ? !strcmp(n->text + 1, name) : glob(n, name, 0);
	}
	case K_NAME:
		return v->dest && glob(n, v->dest->name, FNM_CASEFOLD);
	case K_PROTO:
		return k->proto == n->num;
	case K_PORT:
		if (!proto_has_ports(k->proto))
			return false;
		ends = n->side == SIDE_ANY ? 2 : 1;
		for (int i = 0; i < ends; i++)
			if (compare(side_is_src(k, n->side, i) ? k->sport : k->dport, n->cmp,
			            n->num))
				return true;
		return false;
	case K_HOST:
		if (k->ip_version != n->ip_version)
			return false;
		ends = n->side == SIDE_ANY ? 2 : 1;
		for (int i = 0; i < ends; i++)
			if (in_net(n, side_is_src(k, n->side, i) ? k->src : k->dst))
				return true;
		return false;
	case K_DIR:
		return k->dir == n->num;
	case K_IPVER:
		return k->ip_version == n->ip_version;
	case K_ASN:
		return v->dest && v->dest->asn == n->num;
	case K_COUNTRY:
		return v->dest && !strcasecmp(v->dest->country, n->text);
	case K_BYTES:
		return compare(v->bytes, n->cmp, n->num);
	case K_PACKETS:
		return compare(v->packets, n->cmp, n->num);
	}
	return false;
}

bool filter_flow(const struct filter *f, const struct flow *fl)
{
	struct view v;

	if (!f)
		return true;
	v.k = &fl->key;
	v.user = fl->user;
	v.dest = &fl->dest;
	v.bytes = fl->bytes;
	v.packets = fl->packets;
	return eval(f->root, &v);
}

bool filter_record(const struct filter *f, const struct record *r)
{
	struct view v;

	if (!f)
		return true;
	v.k = &r->key;
	v.user = r->user;
	v.dest = &r->dest;
	v.bytes = r->bytes + r->rev_bytes;
	v.packets = r->packets + r->rev_packets;
	return eval(f->root, &v);
}
