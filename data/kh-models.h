/* kh-models.h: the learning models' rules: the criteria set that applies, an evaluation judged
 * by its set, registration states, recognitions by decision
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-c/json.h>

#include "kh-entity.h"
#include "kh-store.h"

G_BEGIN_DECLS

/* The date from which there is no district level (Resolution on the two-tier local government,
 * in force 01/07/2025, DOMAIN.md). */
#define KH_REFORM_DATE "2025-07-01"

/* Rules without a store: the server holds the same ones ------------------------------------- */

gboolean     kh_result_passed              (const char   *result);
const char  *kh_registration_state_of      (const char   *result);
gboolean     kh_issuing_level_validate     (const char   *level,
                                            const char   *decision_date,
                                            GError      **error);
gboolean     kh_evaluation_judge           (json_object  *criteria_set,
                                            json_object  *criteria,
                                            json_object  *evaluation,
                                            int          *total,
                                            const char  **result,
                                            GError      **error);
gboolean     kh_criteria_set_change_allowed (json_object *changes);
char        *kh_criteria_set_used_message  (json_object  *criteria_set);

/* The stage an evaluation counts as, in SQL over a table aliased @alias: 'self_assessment' or
 * 'review' (an evaluation from before stages were kept is a self-assessment). For the figures:
 * WHERE <this> = 'review' counts the reviews only, never the two stages as one. */
char        *kh_evaluation_stage_sql       (const char   *alias);

/* With a store ------------------------------------------------------------------------------ */

char        *kh_registration_group         (KhStore      *store,
                                            json_object  *registration);
json_object *kh_criteria_set_for           (KhStore      *store,
                                            const char   *model,
                                            int           year,
                                            const char   *org_unit_id,
                                            const char   *group,
                                            GError      **error);
json_object *kh_criteria_set_for_registration (KhStore   *store,
                                               json_object *registration,
                                               GError   **error);
gboolean     kh_criteria_set_is_used       (KhStore      *store,
                                            const char   *criteria_set_id,
                                            GError      **error);
char        *kh_criteria_set_new_version   (KhStore      *store,
                                            const char   *criteria_set_id,
                                            json_object  *set_changes,
                                            json_object  *criteria,
                                            GError      **error);
char        *kh_criteria_set_save          (KhStore      *store,
                                            const char   *criteria_set_id,
                                            json_object  *set_values,
                                            json_object  *criteria,
                                            GError      **error);
gboolean     kh_criteria_install_builtin   (KhStore      *store,
                                            guint        *n_made,
                                            GError      **error);
gboolean     kh_unit_citizen_share         (KhStore      *store,
                                            const char   *org_unit_id,
                                            int           year,
                                            gint64       *members,
                                            gint64       *citizens,
                                            GError      **error);

typedef struct
{
  const char *decision_number;
  const char *decision_date;
  const char *issuing_level;
  const char *title;            /* the honour conferred; NULL: the model's name */
  const char *reason;           /* only for a registration without a passed evaluation */
} KhDecision;

json_object *kh_registrations_to_recognize (KhStore      *store,
                                            const char   *model,
                                            int           year,
                                            const char   *org_unit_id,
                                            GError      **error);
guint        kh_recognize                  (KhStore      *store,
                                            const char * const *registration_ids,
                                            const KhDecision *decision,
                                            GError      **error);

/* The store's own hooks (kh-store-write.c) ---------------------------------------------------- */

void         _kh_models_complete           (KhStore         *store,
                                            const KhEntity  *entity,
                                            json_object     *current,
                                            json_object     *values);
gboolean     _kh_models_check_write        (KhStore         *store,
                                            const KhEntity  *entity,
                                            const char      *id,
                                            json_object     *record,
                                            json_object     *changed,
                                            GError         **error);
gboolean     _kh_models_after_write        (KhStore         *store,
                                            const KhEntity  *entity,
                                            json_object     *record,
                                            GError         **error);

G_END_DECLS
