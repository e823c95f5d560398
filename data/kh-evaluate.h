/* kh-evaluate.h: evaluating a registration against the criteria set in force
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-c/json.h>

#include "kh-store.h"

G_BEGIN_DECLS

json_object *kh_criteria_set_in_force (KhStore      *store,
                                       const char   *model,
                                       int           year,
                                       const char   *org_unit_id,
                                       GError      **error);
json_object *kh_criteria_list         (KhStore      *store,
                                       const char   *criteria_set_id,
                                       GError      **error);
const char  *kh_evaluate_result       (json_object  *criteria_set,
                                       json_object  *criteria,
                                       json_object  *scores,
                                       int          *total);
char        *kh_evaluate_save         (KhStore      *store,
                                       const char   *registration_id,
                                       json_object  *criteria_set,
                                       json_object  *criteria,
                                       json_object  *scores,
                                       const char   *evaluator,
                                       const char   *evaluated_on,
                                       GError      **error);

char        *kh_registration_ensure   (KhStore      *store,
                                       const char   *model,
                                       int           year,
                                       const char   *subject_kind,
                                       const char   *subject_id,
                                       const char   *subject_name,
                                       const char   *org_unit_id,
                                       GError      **error);

G_END_DECLS
