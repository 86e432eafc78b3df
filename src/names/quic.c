// SPDX-License-Identifier: GPL-2.0-only
/* The server_name in a QUIC client's Initial packets, v1 (RFC 9000/9001) and v2
 * (RFC 9369). Crypto is nettle's (HKDF with HMAC-SHA256, AES-128 for header
 * protection, AES-128-GCM): none is written here.
 *
 * Keys: from the Destination Connection ID of the client's first Initial (RFC 9001
 * 5.2), or from the Source Connection ID of a server's Retry whose integrity tag
 * verifies (RFC 9001 5.8). The client keeps those keys when it later switches to the
 * server's connection ID; a packet that does not open with them is tried once more with
 * keys from its own DCID (a Retry we did not see, a new connection on the same
 * addresses), which then replace them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <nettle/aes.h>
#include <nettle/gcm.h>
#include <nettle/hkdf.h>
#include <nettle/hmac.h>
#include <nettle/memops.h>
#include "names/quic.h"
#include "names/tls.h"

#define CID_MAX 20
#define CRYPTO_MAX 16384 /* ClientHello bytes kept; real ones are below 8 KB */
#define TAG 16
#define SAMPLE 16

enum ptype { P_INITIAL, P_0RTT, P_HANDSHAKE, P_RETRY };

static const __u8 salt_v1[20] = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
                                 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
static const __u8 salt_v2[20] = {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
                                 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9};

struct keys {
	__u32 version; /* 0: none */
	__u8 dcid[CID_MAX];
	size_t dcid_len;
	__u8 key[16], iv[12];
	struct aes128_ctx hp;
};

struct quic_state {
	__u8 dcid[CID_MAX]; /* the keys' connection ID */
	size_t dcid_len;
	bool have_dcid, seen_initial, retried;
	struct keys k; /* derived from dcid for k.version */
	__u64 largest_pn;
	bool any_pn;
	size_t contig; /* CRYPTO bytes from offset 0 without a gap */
	__u8 crypto[CRYPTO_MAX];
	__u8 got[CRYPTO_MAX / 8];
	int done; /* 1: name found; < 0: the ClientHello gave this */
	char name[NAME_BUF];
	bool ech;
};

static int ptype(__u32 version, __u8 b0)
{
	int t = b0 >> 4 & 3;

	return version == QUIC_V2 ? (t + 3) % 4 : t; /* v2: 1 Initial, 2 0-RTT, 3 HS, 0 Retry */
}

/* HKDF-Expand-Label (RFC 8446 7.1) with an empty context, SHA-256. */
static void expand_label(const __u8 secret[32], const char *label, __u8 *out, size_t n)
{
	struct hmac_sha256_ctx h;
	__u8 info[2 + 1 + 255 + 1];
	size_t l = strlen(label), i = 0;

	info[i++] = n >> 8;
	info[i++] = n;
	info[i++] = 6 + l;
	memcpy(info + i, "tls13 ", 6);
	memcpy(info + i + 6, label, l);
	i += 6 + l;
	info[i++] = 0;
	hmac_sha256_set_key(&h, 32, secret);
	hkdf_expand(&h, (nettle_hash_update_func *)hmac_sha256_update,
	            (nettle_hash_digest_func *)hmac_sha256_digest, SHA256_DIGEST_SIZE, i, info, n,
	            out);
}

static void derive(struct keys *k, __u32 version, const __u8 *dcid, size_t dlen)
{
	struct hmac_sha256_ctx h;
	__u8 initial[32], client[32], hp[16];
	bool v2 = version == QUIC_V2;

	hmac_sha256_set_key(&h, 20, v2 ? salt_v2 : salt_v1);
	hkdf_extract(&h, (nettle_hash_update_func *)hmac_sha256_update,
	             (nettle_hash_digest_func *)hmac_sha256_digest, SHA256_DIGEST_SIZE, dlen, dcid,
	             initial);
	expand_label(initial, "client in", client, 32);
	expand_label(client, v2 ? "quicv2 key" : "quic key", k->key, 16);
	expand_label(client, v2 ? "quicv2 iv" : "quic iv", k->iv, 12);
	expand_label(client, v2 ? "quicv2 hp" : "quic hp", hp, 16);
	aes128_set_encrypt_key(&k->hp, hp);
	k->version = version;
	memcpy(k->dcid, dcid, dlen);
	k->dcid_len = dlen;
}

/* A variable-length integer (RFC 9000 16) at *p, before end; false when cut. */
static bool varint(const __u8 **p, const __u8 *end, __u64 *v)
{
	size_t n;

	if (*p >= end)
		return false;
	n = (size_t)1 << (**p >> 6);
	if ((size_t)(end - *p) < n)
		return false;
	*v = **p & 0x3f;
	for (size_t i = 1; i < n; i++)
		*v = *v << 8 | (*p)[i];
	*p += n;
	return true;
}

/* A long header (RFC 9000 17.2). end: where this packet ends in the datagram. */
struct lh {
	__u32 version;
	int type;
	const __u8 *dcid, *scid;
	size_t dcid_len, scid_len;
	size_t pn_off, end; /* from the packet's first byte */
};

/* 0, -EPROTO (not a v1/v2 long header), -EBADMSG. */
static int long_header(const __u8 *d, size_t len, struct lh *h)
{
	const __u8 *p = d + 5, *e = d + len;
	__u64 v;

	if (len < 7 || !(d[0] & 0x80))
		return -EPROTO;
	h->version = (__u32)d[1] << 24 | (__u32)d[2] << 16 | (__u32)d[3] << 8 | d[4];
	if (h->version != QUIC_V1 && h->version != QUIC_V2)
		return -EPROTO;
	h->type = ptype(h->version, d[0]);
	h->dcid_len = *p++;
	if (h->dcid_len > CID_MAX || (size_t)(e - p) < h->dcid_len + 1)
		return -EBADMSG;
	h->dcid = p;
	p += h->dcid_len;
	h->scid_len = *p++;
	if (h->scid_len > CID_MAX || (size_t)(e - p) < h->scid_len)
		return -EBADMSG;
	h->scid = p;
	p += h->scid_len;
	if (h->type == P_RETRY) {
		h->pn_off = h->end = len;
		return 0;
	}
	if (h->type == P_INITIAL) {
		if (!varint(&p, e, &v) || (__u64)(e - p) < v)
			return -EBADMSG;
		p += v; /* the token */
	}
	if (!varint(&p, e, &v) || (__u64)(e - p) < v)
		return -EBADMSG;
	h->pn_off = p - d;
	h->end = h->pn_off + v;
	return 0;
}

/* Remove header protection and decrypt the Initial at pkt (h read from it) with k into
 * out (h->end bytes): the payload's length, or -EBADMSG. */
static int open_initial(const struct keys *k, const __u8 *pkt, const struct lh *h, __u64 largest,
                        bool any_pn, __u8 *out, __u64 *pn_out)
{
	struct gcm_aes128_ctx g;
	__u8 mask[16], nonce[12], tag[TAG];
	size_t pn_len, hdr, ct;
	__u64 pn = 0, win, expected, cand;

	if (h->end < h->pn_off + 4 + SAMPLE)
		return -EBADMSG; /* no sample: too short to be protected */
	memcpy(out, pkt, h->end);
	aes128_encrypt(&k->hp, 16, mask, pkt + h->pn_off + 4);
	out[0] ^= mask[0] & 0x0f;
	if (out[0] & 0x0c)
		return -EBADMSG; /* reserved bits (RFC 9000 17.2): or the wrong keys */
	pn_len = (out[0] & 3) + 1;
	for (size_t i = 0; i < pn_len; i++) {
		out[h->pn_off + i] ^= mask[1 + i];
		pn = pn << 8 | out[h->pn_off + i];
	}
	hdr = h->pn_off + pn_len;
	if (h->end < hdr + TAG)
		return -EBADMSG;
	ct = h->end - hdr - TAG;
	/* the full packet number (RFC 9000 A.3) */
	expected = any_pn ? largest + 1 : 0;
	win = (__u64)1 << (8 * pn_len);
	cand = (expected & ~(win - 1)) | pn;
	if (cand + win / 2 <= expected && cand + win < ((__u64)1 << 62))
		cand += win;
	else if (cand > expected + win / 2 && cand >= win)
		cand -= win;
	memcpy(nonce, k->iv, 12);
	for (int i = 0; i < 8; i++)
		nonce[11 - i] ^= cand >> (8 * i);
	gcm_aes128_set_key(&g, k->key);
	gcm_aes128_set_iv(&g, 12, nonce);
	gcm_aes128_update(&g, hdr, out);
	gcm_aes128_decrypt(&g, ct, out + hdr, pkt + hdr);
	gcm_aes128_digest(&g, TAG, tag);
	if (!memeql_sec(tag, pkt + hdr + ct, TAG))
		return -EBADMSG;
	memmove(out, out + hdr, ct);
	*pn_out = cand;
	return ct;
}

static void crypto_reset(struct quic_state *q)
{
	q->contig = 0;
	memset(q->got, 0, sizeof(q->got));
	q->any_pn = false;
	q->largest_pn = 0;
}

static void crypto_add(struct quic_state *q, __u64 off, const __u8 *data, __u64 n)
{
	for (__u64 i = 0; i < n && off + i < CRYPTO_MAX; i++) {
		q->crypto[off + i] = data[i];
		q->got[(off + i) / 8] |= 1 << ((off + i) % 8);
	}
	while (q->contig < CRYPTO_MAX && q->got[q->contig / 8] & 1 << (q->contig % 8))
		q->contig++;
}

/* The frames of an Initial (RFC 9000 12.4: PADDING, PING, ACK, CRYPTO,
 * CONNECTION_CLOSE): 0, or -EBADMSG. */
static int frames(struct quic_state *q, const __u8 *p, size_t len)
{
	const __u8 *e = p + len;
	__u64 t, a, b, c, n;

	if (len == 0)
		return -EBADMSG; /* a packet without frames (RFC 9000 12.4) */
	while (p < e) {
		if (!varint(&p, e, &t))
			return -EBADMSG;
		switch (t) {
		case 0x00: /* PADDING */
		case 0x01: /* PING */
			break;
		case 0x02: /* ACK */
		case 0x03: /* ACK with ECN counts */
			if (!varint(&p, e, &a) || !varint(&p, e, &b) || !varint(&p, e, &n) ||
			    !varint(&p, e, &c) || n > len)
				return -EBADMSG;
			for (__u64 i = 0; i < n; i++)
				if (!varint(&p, e, &a) || !varint(&p, e, &b))
					return -EBADMSG;
			if (t == 0x03 &&
			    (!varint(&p, e, &a) || !varint(&p, e, &b) || !varint(&p, e, &c)))
				return -EBADMSG;
			break;
		case 0x06: /* CRYPTO */
			if (!varint(&p, e, &a) || !varint(&p, e, &n) || (__u64)(e - p) < n ||
			    a + n >= (__u64)1 << 62)
				return -EBADMSG;
			crypto_add(q, a, p, n);
			p += n;
			break;
		case 0x1c: /* CONNECTION_CLOSE */
			if (!varint(&p, e, &a) || !varint(&p, e, &b) || !varint(&p, e, &n) ||
			    (__u64)(e - p) < n)
				return -EBADMSG;
			p += n;
			break;
		default:
			return -EBADMSG; /* not allowed in an Initial */
		}
	}
	return 0;
}

struct quic_state *quic_new(void) { return calloc(1, sizeof(struct quic_state)); }

void quic_free(struct quic_state *q) { free(q); }

/* One Initial: opened with the state's keys, else with keys from its own DCID. */
static int initial(struct quic_state *q, const __u8 *pkt, const struct lh *h, __u8 *buf)
{
	struct keys other;
	__u64 pn;
	int n = -EBADMSG;
	bool same_cid;

	if (q->have_dcid) {
		if (q->k.version != h->version || q->k.dcid_len != q->dcid_len ||
		    memcmp(q->k.dcid, q->dcid, q->dcid_len) != 0)
			derive(&q->k, h->version, q->dcid, q->dcid_len);
		n = open_initial(&q->k, pkt, h, q->largest_pn, q->any_pn, buf, &pn);
	}
	same_cid =
	    q->have_dcid && h->dcid_len == q->dcid_len && !memcmp(h->dcid, q->dcid, h->dcid_len);
	if (n < 0 && !same_cid) {
		derive(&other, h->version, h->dcid, h->dcid_len);
		n = open_initial(&other, pkt, h, 0, false, buf, &pn);
		if (n < 0)
			return n;
		/* a new connection ID for the keys: what came before was another attempt */
		crypto_reset(q);
		memcpy(q->dcid, h->dcid, h->dcid_len);
		q->dcid_len = h->dcid_len;
		q->have_dcid = true;
		q->k = other;
	}
	if (n < 0)
		return n;
	if (!q->any_pn || pn > q->largest_pn)
		q->largest_pn = pn;
	q->any_pn = true;
	q->seen_initial = true;
	return frames(q, buf, n);
}

int quic_feed(struct quic_state *q, const __u8 *dgram, size_t len, char name[NAME_BUF], bool *ech)
{
	size_t off = 0, first_len = 0;
	const __u8 *first_dcid = NULL;
	bool any = false;
	__u8 *buf;
	int r = 0;

	name[0] = 0;
	*ech = false;
	if (q->done)
		goto out;
	buf = malloc(len ? len : 1);
	if (!buf)
		return 0;
	while (off < len) {
		struct lh h;

		r = long_header(dgram + off, len - off, &h);
		if (r < 0) {
			/* a short header packet, padding or anything else after the first */
			if (off > 0 || (!(dgram[0] & 0x80) && q->seen_initial))
				r = 0;
			break;
		}
		if (h.end > len - off) {
			r = off > 0 ? 0 : -EBADMSG;
			break;
		}
		if (off == 0) {
			first_dcid = h.dcid;
			first_len = h.dcid_len;
		} else if (h.dcid_len != first_len || memcmp(h.dcid, first_dcid, first_len) != 0) {
			break; /* another connection's packets: ignored (RFC 9000 12.2) */
		}
		if (h.type == P_INITIAL) {
			/* a later packet that does not open is dropped (RFC 9000 12.2) */
			r = initial(q, dgram + off, &h, buf);
			if (r < 0 && any)
				r = 0;
			if (r < 0)
				break;
			any = true;
		} else if (h.type == P_RETRY) {
			break; /* not from a client */
		}
		/* 0-RTT and Handshake packets: skipped */
		off += h.end;
	}
	free(buf);
	if (r < 0)
		return r;
	if (!any)
		return q->seen_initial ? 0 : -EPROTO;
	if (q->contig) {
		r = tls_sni_handshake(q->crypto, q->contig, q->name, &q->ech);
		if (r == 0 && q->contig == CRYPTO_MAX)
			r = -EBADMSG; /* larger than we keep */
		else if (r == -EPROTO)
			r = -EBADMSG; /* a client's Initial holds a ClientHello */
		if (r == 0)
			return 0;
		q->done = r;
	}
	if (!q->done)
		return 0;
out:
	if (q->done == 1) {
		memcpy(name, q->name, NAME_BUF);
		*ech = q->ech;
	}
	return q->done;
}

/* A Retry's integrity tag (RFC 9001 5.8, RFC 9369 3.3.3): AES-128-GCM with a fixed key
 * over the Retry behind the Original Destination Connection ID, the client's first. */
static bool retry_ok(const struct quic_state *q, const __u8 *d, size_t len, __u32 version)
{
	static const __u8 key_v1[16] = {0xbe, 0x0c, 0x69, 0x0b, 0x9f, 0x66, 0x57, 0x5a,
	                                0x1d, 0x76, 0x6b, 0x54, 0xe3, 0x68, 0xc8, 0x4e};
	static const __u8 nonce_v1[12] = {0x46, 0x15, 0x99, 0xd3, 0x5d, 0x63,
	                                  0x2b, 0xf2, 0x23, 0x98, 0x25, 0xbb};
	static const __u8 key_v2[16] = {0x8f, 0xb4, 0xb0, 0x1b, 0x56, 0xac, 0x48, 0xe2,
	                                0x60, 0xfb, 0xcb, 0xce, 0xad, 0x7c, 0xcc, 0x92};
	static const __u8 nonce_v2[12] = {0xd8, 0x69, 0x69, 0xbc, 0x2d, 0x7c,
	                                  0x6d, 0x99, 0x90, 0xef, 0xb0, 0x4a};
	struct gcm_aes128_ctx g;
	__u8 odcid_len = q->dcid_len, tag[TAG];
	bool v2 = version == QUIC_V2;

	gcm_aes128_set_key(&g, v2 ? key_v2 : key_v1);
	gcm_aes128_set_iv(&g, 12, v2 ? nonce_v2 : nonce_v1);
	/* GCM's AAD in pieces: all but the last must be whole blocks, so one buffer */
	{
		__u8 *pseudo = malloc(1 + CID_MAX + len);
		size_t n = 0;

		if (!pseudo)
			return false;
		pseudo[n++] = odcid_len;
		memcpy(pseudo + n, q->dcid, odcid_len);
		n += odcid_len;
		memcpy(pseudo + n, d, len - TAG);
		n += len - TAG;
		gcm_aes128_update(&g, n, pseudo);
		free(pseudo);
	}
	gcm_aes128_digest(&g, TAG, tag);
	return memeql_sec(tag, d + len - TAG, TAG);
}

int quic_feed_server(struct quic_state *q, const __u8 *dgram, size_t len)
{
	struct lh h;
	int r = long_header(dgram, len, &h);
	size_t token;

	if (r == -EPROTO && len >= 5 && dgram[0] & 0x80 && !dgram[1] && !dgram[2] && !dgram[3] &&
	    !dgram[4])
		return 0; /* Version Negotiation */
	if (r < 0)
		return (len && !(dgram[0] & 0x80) && q->seen_initial) ? 0 : -EPROTO;
	if (h.type != P_RETRY || q->done || q->retried || !q->have_dcid)
		return 0;
	/* a client takes one Retry, with a token, a new connection ID and a valid tag
	 * (RFC 9000 17.2.5.2) */
	token = len - (h.scid + h.scid_len - dgram);
	if (token <= TAG || h.scid_len == 0 ||
	    (h.scid_len == q->dcid_len && !memcmp(h.scid, q->dcid, h.scid_len)) ||
	    !retry_ok(q, dgram, len, h.version))
		return 0;
	/* the client's next Initials: keys from the Retry's Source Connection ID */
	memcpy(q->dcid, h.scid, h.scid_len);
	q->dcid_len = h.scid_len;
	q->retried = true;
	crypto_reset(q);
	return 0;
}

int quic_seal_initial(const struct quic_seal *s, const __u8 *payload, size_t plen, __u8 *out,
                      size_t cap)
{
	struct keys k;
	struct gcm_aes128_ctx g;
	__u8 nonce[12], mask[16];
	size_t i = 0, len = s->pn_len + plen + TAG, pn_off;
	int t = s->version == QUIC_V2 ? 1 : 0;

	if ((s->version != QUIC_V1 && s->version != QUIC_V2) || s->dcid_len > CID_MAX ||
	    s->scid_len > CID_MAX || s->key_cid_len > CID_MAX || s->pn_len < 1 || s->pn_len > 4 ||
	    s->token_len > 0x3fff || len > 0x3fff || s->pn_len + plen < 4 ||
	    cap < 7 + s->dcid_len + s->scid_len + 2 + s->token_len + 2 + len)
		return -EINVAL;
	if (s->key_cid)
		derive(&k, s->version, s->key_cid, s->key_cid_len);
	else
		derive(&k, s->version, s->dcid, s->dcid_len);
	out[i++] = 0xc0 | t << 4 | (s->pn_len - 1);
	for (int b = 24; b >= 0; b -= 8)
		out[i++] = s->version >> b;
	out[i++] = s->dcid_len;
	if (s->dcid_len)
		memcpy(out + i, s->dcid, s->dcid_len);
	i += s->dcid_len;
	out[i++] = s->scid_len;
	if (s->scid_len)
		memcpy(out + i, s->scid, s->scid_len);
	i += s->scid_len;
	if (s->token_len >= 64)
		out[i++] = 0x40 | s->token_len >> 8;
	out[i++] = s->token_len;
	if (s->token_len)
		memcpy(out + i, s->token, s->token_len);
	i += s->token_len;
	out[i++] = 0x40 | len >> 8; /* Length: always two bytes */
	out[i++] = len;
	pn_off = i;
	for (size_t b = 0; b < s->pn_len; b++)
		out[i++] = s->pn >> (8 * (s->pn_len - 1 - b));
	memcpy(nonce, k.iv, 12);
	for (int b = 0; b < 4; b++)
		nonce[11 - b] ^= s->pn >> (8 * b);
	gcm_aes128_set_key(&g, k.key);
	gcm_aes128_set_iv(&g, 12, nonce);
	gcm_aes128_update(&g, i, out);
	gcm_aes128_encrypt(&g, plen, out + i, payload);
	gcm_aes128_digest(&g, TAG, out + i + plen);
	i += plen + TAG;
	aes128_encrypt(&k.hp, 16, mask, out + pn_off + 4);
	out[0] ^= mask[0] & 0x0f;
	for (size_t b = 0; b < s->pn_len; b++)
		out[pn_off + b] ^= mask[1 + b];
	return i;
}
