/* kh-demo.h: realistic demo data
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kh-store.h"

G_BEGIN_DECLS

typedef struct
{
  gint64 records;
  double seconds;
} KhDemoStats;

typedef void (*KhDemoProgressFunc) (gint64   done,
                                    gint64   total,
                                    gpointer user_data);

gboolean kh_demo_generate      (KhStore             *store,
                                gint64               records,
                                guint32              seed,
                                KhDemoStats         *stats,
                                GError             **error);
gboolean kh_demo_generate_full (KhStore             *store,
                                gint64               records,
                                guint32              seed,
                                KhDemoProgressFunc   progress,
                                gpointer             progress_data,
                                KhDemoStats         *stats,
                                GError             **error);

G_END_DECLS
