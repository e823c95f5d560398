/* kh-privacy.h: personal data in the local store: sensitive fields, consent, erasure
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-c/json.h>

#include "kh-entity.h"
#include "kh-store.h"

G_BEGIN_DECLS

/* Under 18: a minor (Law 91/2025 and the Civil Code). */
#define KH_AGE_ADULT 18

/* What an erased record's required text fields hold instead of a name: no personal data, the
 * same in every language (the window shows it as it is). */
#define KH_ERASED_TEXT "—"

/* What an erasure does to a record that names the person in @ref: @clear are left without a
 * value, @mark (required texts) hold KH_ERASED_TEXT. The same rules on the server and on a
 * replica (for the records it made itself and has not sent yet). */
typedef struct
{
  const char         *entity;
  const char         *ref;
  const char * const *clear;
  const char * const *mark;
} KhErasureRule;

const KhErasureRule *kh_privacy_erasure_rules (guint *n_rules);

gboolean     kh_field_is_sensitive          (const KhField  *field);
char        *kh_privacy_mask                (const KhField  *field,
                                             const char     *text);
int          kh_privacy_age_on              (const char     *birth_date,
                                             gint64          birth_year,
                                             const char     *on);
gboolean     kh_privacy_consent_counts      (const char     *given_by,
                                             const char     *guardian_id,
                                             int             age);
gboolean     kh_privacy_audit_export        (KhStore        *store,
                                             const char     *entity,
                                             const char     *list_id,
                                             const char     *fields,
                                             const char     *path,
                                             GError        **error);
/* The member a person's list item has, TRUE, when the person is a minor without consent. */
#define KH_NO_CONSENT_MEMBER "kh_no_consent"

const char  *kh_privacy_no_consent_column   (void);
gint64       kh_store_count_without_consent (KhStore        *store,
                                             GError        **error);
gint64       kh_store_count_without_consent_in (KhStore     *store,
                                                GHashTable  *units,
                                                GError     **error);
json_object *kh_store_list_without_consent  (KhStore        *store,
                                             gint64          limit,
                                             GError        **error);
gboolean     kh_store_has_valid_consent     (KhStore        *store,
                                             const char     *person_id,
                                             GError        **error);
gboolean     kh_store_erase_local           (KhStore        *store,
                                             json_object    *records,
                                             GError        **error);
gboolean     kh_store_scrub                 (KhStore        *store,
                                             json_object    *records,
                                             GError        **error);

/* For the store's writes: the rules of consent and of approving a minor's award. */
gboolean     _kh_privacy_check_write        (KhStore         *store,
                                             const KhEntity  *entity,
                                             json_object     *record,
                                             json_object     *changed,
                                             GError         **error);

G_END_DECLS
