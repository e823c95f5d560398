/* kh-conflict-card.h: one conflict, this computer's value beside the server's
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "kh-replica.h"

G_BEGIN_DECLS

#define KH_TYPE_CONFLICT_CARD (kh_conflict_card_get_type ())

G_DECLARE_FINAL_TYPE (KhConflictCard, kh_conflict_card, KH, CONFLICT_CARD, GtkBox)

GtkWidget        *kh_conflict_card_new          (KhStore          *store,
                                                 const KhConflict *conflict);
const KhConflict *kh_conflict_card_get_conflict (KhConflictCard   *self);
void              kh_conflict_card_show_error   (KhConflictCard   *self,
                                                 const char       *message);

G_END_DECLS
