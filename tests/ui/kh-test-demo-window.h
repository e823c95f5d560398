/* kh-test-demo-window.h: the window on a small demo replica, for the window's tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kh-store.h"
#include "kh-window.h"

G_BEGIN_DECLS

typedef struct
{
  char     *dir;
  KhStore  *store;
  KhWindow *window;
} KhTestDemoWindow;

void kh_test_demo_window_open         (KhTestDemoWindow *d,
                                       int               width,
                                       int               height);
void kh_test_demo_window_close        (KhTestDemoWindow *d);
void kh_test_close_windows_but        (GtkWindow        *keep);

G_END_DECLS
