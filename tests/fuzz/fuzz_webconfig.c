// SPDX-License-Identifier: GPL-2.0-only
/* The /metrics web configuration parser (libyaml underneath): never crashes or leaks,
 * and either accepts a configuration that holds what tunflow relies on (certificate
 * and key both or neither, every user with a 60-character bcrypt hash) or gives one
 * line of valid UTF-8 without control characters that names the file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "sinks/webconfig.h"
#include "util/text.h"

#define PATH "/tmp/fuzz-webconfig/web.yml"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct webconfig wc;
	char *err = NULL;
	int ret;

	if (size > 65536)
		return 0;
	ret = webconfig_parse(PATH, (const char *)data, size, &wc, &err);
	if (ret) {
		if (!err || strncmp(err, "web config " PATH ": ", strlen("web config " PATH ": ")) ||
		    !text_is_clean(err))
			abort();
	} else {
		if (err || !wc.cert_file != !wc.key_file)
			abort();
		if (wc.cert_file && (strncmp(wc.cert_file, "/", 1) || strncmp(wc.key_file, "/", 1)))
			abort(); /* resolved against the file's directory */
		for (size_t i = 0; i < wc.nusers; i++)
			if (!wc.users[i].name[0] || strlen(wc.users[i].hash) != 60 ||
			    strncmp(wc.users[i].hash, "$2", 2))
				abort();
	}
	g_free(err);
	webconfig_free(&wc);
	return 0;
}
