/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * config.h - reading /etc/xen/xenshared.conf into a struct xsd_config.
 *
 * A parse always fills a NEW config (defaults first, then the file); the
 * running config is never touched by a parse, so a bad file on SIGHUP leaves
 * the daemon exactly as it was.  Errors name the file and the line
 * ("xenshared.conf:12: cpu_cap: 250 is not in 1..100"); every bad line is
 * reported, not only the first.  Messages quote the file's bytes with
 * everything but printable ASCII as \xNN (xsd_printable()), so a file
 * holding terminal escapes cannot replay them on the operator's terminal.
 */
#ifndef XSD_CONFIG_H
#define XSD_CONFIG_H

#include <stddef.h>

#include "settings.h"

#define XSD_DEFAULT_CONFIG "/etc/xen/xenshared.conf"
#define XSD_CONFIG_MAX_BYTES (1 << 20)
#define XSD_CONFIG_MAX_LINE 4096

/*
 * Parses text (len bytes, named name in messages) into *out, which is
 * initialised here.  Returns 0, or -EINVAL with one "name:line: message"
 * per bad line in err (newline-separated, truncated to errlen); *out is
 * then released and must not be used.
 */
int xsd_config_parse_text(const char *name, const char *text, size_t len,
			  struct xsd_config *out, char *err, size_t errlen);

/*
 * Reads and parses a file.  A missing file is -ENOENT (with a message);
 * the caller decides whether that is fine (the default path) or an error
 * (a path given with -f).
 */
int xsd_config_parse_file(const char *path, struct xsd_config *out,
			  char *err, size_t errlen);

/*
 * Like xsd_config_parse_file(), but on -EINVAL *out keeps the defaults plus
 * every valid line (and must be released): for `xenshared -C`, which needs
 * the control_socket even while the file has errors.
 */
int xsd_config_parse_file_partial(const char *path, struct xsd_config *out,
				  char *err, size_t errlen);

/*
 * Reload: for each setting that needs a restart and differs between cur and
 * next, puts cur's value back into next and appends a warning line to warn.
 * Returns the number of such settings.
 */
int xsd_config_keep_restart_only(const char *name, const struct xsd_config *cur,
				 struct xsd_config *next, char *warn, size_t warnlen);

#endif /* XSD_CONFIG_H */
