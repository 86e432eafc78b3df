// SPDX-License-Identifier: GPL-2.0-only
/* The server_name of a TLS ClientHello (RFC 8446 4.1.2, RFC 6066 3), on any port: the
 * record layer is recognised, and the handshake message reassembled from as many
 * consecutive handshake records as it spans. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "names/tls.h"

#define REC_HDR 5
#define REC_MAX 16384     /* TLSPlaintext.length (RFC 8446 5.1) */
#define HS_MAX (1u << 17) /* larger than any ClientHello can be (two 16-bit vectors) */
#define EXT_SERVER_NAME 0x0000
#define EXT_ECH 0xfe0d

static unsigned get16(const __u8 *p) { return p[0] << 8 | p[1]; }
static unsigned get24(const __u8 *p) { return p[0] << 16 | p[1] << 8 | p[2]; }

/* A reader over [p, end): every take checks what is left. */
struct rd {
	const __u8 *p, *end;
	bool bad;
};

static const __u8 *take(struct rd *r, size_t n)
{
	const __u8 *q = r->p;

	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = true;
		return NULL;
	}
	r->p += n;
	return q;
}

static unsigned take8(struct rd *r)
{
	const __u8 *q = take(r, 1);

	return q ? q[0] : 0;
}

static unsigned take16(struct rd *r)
{
	const __u8 *q = take(r, 2);

	return q ? get16(q) : 0;
}

/* A vector with a length of lbytes (1 or 2) in front, as a sub-reader. */
static struct rd take_vec(struct rd *r, int lbytes)
{
	unsigned n = lbytes == 1 ? take8(r) : take16(r);
	const __u8 *q = take(r, n);

	return (struct rd){q, q ? q + n : NULL, q == NULL};
}

/* server_name's extension_data: a ServerNameList; the first host_name counts. */
static int server_name(struct rd e, char name[NAME_BUF])
{
	struct rd list = take_vec(&e, 2);

	if (list.bad || e.p != e.end || list.p == list.end)
		return -EBADMSG;
	while (list.p < list.end) {
		unsigned type = take8(&list);
		struct rd host = take_vec(&list, 2);

		if (list.bad)
			return -EBADMSG;
		if (type != 0) /* only host_name (0) is defined */
			continue;
		if (name_clean((const char *)host.p, host.end - host.p, name))
			return -EBADMSG;
		return 1;
	}
	return -ENOENT;
}

static int client_hello(const __u8 *hs, size_t len, char name[NAME_BUF], bool *ech)
{
	struct rd r, exts;
	size_t body;
	int found = -ENOENT;
	bool seen_sni = false;

	name[0] = 0;
	*ech = false;
	if (len >= 1 && hs[0] != 1)
		return -EPROTO; /* not a ClientHello */
	if (len < 4)
		return 0;
	body = get24(hs + 1);
	if (body > HS_MAX)
		return -EBADMSG;
	if (len < 4 + body)
		return 0;
	r = (struct rd){hs + 4, hs + 4 + body, false};
	take(&r, 2 + 32);             /* legacy_version, random */
	take_vec(&r, 1);              /* legacy_session_id */
	if (take_vec(&r, 2).p == r.p) /* cipher_suites: at least one */
		return -EBADMSG;
	take_vec(&r, 1); /* legacy_compression_methods */
	if (r.bad)
		return -EBADMSG;
	if (r.p == r.end)
		return -ENOENT; /* no extensions at all (TLS 1.0 style) */
	exts = take_vec(&r, 2);
	if (exts.bad || r.bad || r.p != r.end)
		return -EBADMSG;
	while (exts.p < exts.end) {
		unsigned type = take16(&exts);
		struct rd data = take_vec(&exts, 2);

		if (exts.bad)
			return -EBADMSG;
		if (type == EXT_SERVER_NAME) {
			if (seen_sni) /* each extension at most once (RFC 8446 4.2) */
				return -EBADMSG;
			seen_sni = true;
			found = server_name(data, name);
			if (found < 0 && found != -ENOENT)
				return found;
		} else if (type == EXT_ECH) {
			if (*ech)
				return -EBADMSG;
			*ech = true;
		}
	}
	return found;
}

int tls_sni_handshake(const __u8 *hs, size_t len, char name[NAME_BUF], bool *ech)
{
	int r = client_hello(hs, len, name, ech);

	if (r != 1)
		name[0] = 0; /* a name only with a whole, well-formed ClientHello */
	if (r == 0 || r == -EPROTO)
		*ech = false;
	return r;
}

/* Whether the first bytes could still start a handshake record: 0 or -EPROTO. */
static int record_start(const __u8 *b, size_t len)
{
	if (len >= 1 && b[0] != 0x16)
		return -EPROTO; /* not a handshake record */
	if (len >= 2 && b[1] != 3)
		return -EPROTO;
	if (len >= 3 && b[2] > 4)
		return -EPROTO; /* SSL 3.0 to TLS 1.3's legacy 0x0301 */
	return 0;
}

int tls_sni(const __u8 *buf, size_t len, char name[NAME_BUF], bool *ech)
{
	size_t pos = 0, have = 0, need = 0;
	__u8 h4[4], *hs = NULL;
	int r;

	name[0] = 0;
	*ech = false;
	r = record_start(buf, len);
	if (r)
		return r;
	/* the handshake message, joined from the fragments of consecutive records: the
	 * first 4 bytes (type and length) into h4, then all of it into hs */
	while (have < (need ? need : 4) && pos < len) {
		size_t rec, avail, c;
		const __u8 *frag;

		if (record_start(buf + pos, len - pos))
			goto bad; /* another record type before the ClientHello ended */
		if (len - pos < REC_HDR)
			break;
		rec = get16(buf + pos + 3);
		if (rec == 0 || rec > REC_MAX)
			goto bad; /* RFC 8446 5.1: no empty handshake fragments */
		frag = buf + pos + REC_HDR;
		avail = rec < len - pos - REC_HDR ? rec : len - pos - REC_HDR;
		if (!need) {
			c = 4 - have < avail ? 4 - have : avail;
			memcpy(h4 + have, frag, c);
			have += c;
			frag += c;
			avail -= c;
			if (have && h4[0] != 1) {
				free(hs);
				return -EPROTO; /* a handshake, but not a ClientHello */
			}
			if (have == 4) {
				need = 4 + get24(h4 + 1);
				if (need - 4 > HS_MAX)
					goto bad;
				hs = malloc(need);
				if (!hs)
					return 0;
				memcpy(hs, h4, 4);
			}
		}
		if (need) {
			c = need - have < avail ? need - have : avail;
			memcpy(hs + have, frag, c);
			have += c;
		}
		pos += REC_HDR + rec; /* past len when the record is cut: the loop ends */
	}
	r = need && have == need ? tls_sni_handshake(hs, need, name, ech) : 0;
	free(hs);
	return r;
bad:
	free(hs);
	return -EBADMSG;
}
