/* SPDX-License-Identifier: GPL-2.0-only */
/* --store: the embedded flow store as a sink (sinks/store.c). */
#ifndef TUNFLOW_SINK_STORE_H
#define TUNFLOW_SINK_STORE_H

struct store_cfg {
	const char *path;        /* --store */
	const char *gateway;     /* --gateway-id */
	unsigned retention_days; /* --store-retention; 0: keep everything */
};

struct sink;
/* Open (or create) the store and start its writer. NULL, with the reason said (a newer
 * schema, not a tunflow store, cannot be created). */
struct sink *store_sink_new(const struct store_cfg *cfg);

#endif
