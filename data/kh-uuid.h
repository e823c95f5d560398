/* kh-uuid.h: UUIDv7 record ids
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char     *kh_uuid_v7_new (void);
gboolean  kh_uuid_is_valid (const char *text);

G_END_DECLS
