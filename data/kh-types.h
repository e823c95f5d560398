/* kh-types.h: forward declarations for the data library
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _KhField  KhField;
typedef struct _KhEntity KhEntity;
typedef struct _KhStore  KhStore;

G_END_DECLS
