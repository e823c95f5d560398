/* kh-memory.h: how the programs use glibc's malloc
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

void kh_memory_setup   (void);
void kh_memory_release (void);

G_END_DECLS
