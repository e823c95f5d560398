/* kh-test-desk.h: an officer's desk in the window tests: a replica, its engine client and a
 * window signed in to the test server, and the waits the tests share.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kh-engine-client.h"
#include "kh-sync-test-util.h"
#include "kh-window.h"

G_BEGIN_DECLS

typedef struct
{
  char           *path;
  KhStore        *store;
  KhEngineClient *client;
  KhWindow       *window;
} Desk;

/* Runs the main loop until @done (a check of @data) or a minute has passed. */
gboolean kh_desk_wait_for       (gboolean   (*done) (gpointer data),
                                 gpointer     data);
/* The window is idle, has synced, and has nothing left to send. */
gboolean kh_desk_idle_and_sent  (gpointer     data);
/* A window signed in to @server as @user, its replica in @dir, synced. */
Desk    *kh_desk_new            (KhTestServer *server,
                                 const char   *dir,
                                 const char   *user);
/* Sync now, and wait until it is done and nothing is left to send. */
void     kh_desk_sync           (Desk         *d);
/* Saves @widget as PNG @name in KH_SCREENSHOT_DIR, when it is set. */
void     kh_desk_screenshot     (GtkWidget    *widget,
                                 const char   *name);
/* Closes the window and checks that the client, the window and the store are finalized. */
void     kh_desk_free           (Desk         *d);

G_END_DECLS
