/* kh-window-private.h: the window's state, shared by kh-window.c and its actions file
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kh-window.h"

G_BEGIN_DECLS

struct _KhWindow
{
  AdwApplicationWindow  parent_instance;

  KhStore              *store;
  KhSyncClient         *sync_client;
  GCancellable         *cancellable;
  GSettings            *settings;
  gulong                store_changed_id;
  gulong                client_notify_id;
  guint                 count_source;

  KhSyncClientState     sync_state;
  gint64                pending;
  gint64                conflicts;
  gint64                refused;      /* changes the server refused, waiting for a person */
  GDateTime            *last_sync;

  /* Template widgets */
  AdwToastOverlay      *toast_overlay;
  AdwLeaflet           *leaflet;
  GtkListBox           *sidebar;
  GtkWidget            *content_box;
  AdwWindowTitle       *content_title;
  GtkWidget            *sync_indicator;
  GtkWidget            *sync_strip;    /* the same state, on its own line when folded */
  GtkStack             *stack;
};

void kh_window_class_actions_init (KhWindowClass *klass);
void kh_window_actions_update     (KhWindow      *self);

G_END_DECLS
