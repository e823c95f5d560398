/* kh-server-accounts.c: user accounts, passwords and tokens
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <sodium.h>
#include <string.h>

#include "kh-server-core-private.h"
#include "kh-uuid.h"
#include "kh-validate.h"
#include "kh-workflow.h"

void
kh_server_user_free (KhServerUser *user)
{
  if (user == NULL)
    return;
  g_free (user->id);
  g_free (user->username);
  g_free (user->role);
  g_free (user->scope_unit_id);
  g_free (user->scope_code);
  g_free (user->device);
  g_free (user);
}

static gboolean
valid_role (const char *role)
{
  return g_strcmp0 (role, "admin") == 0 || g_strcmp0 (role, "officer") == 0
         || g_strcmp0 (role, "viewer") == 0;
}

static char *
hash_password (const char  *password,
               GError     **error)
{
  char out[crypto_pwhash_STRBYTES];

  if (crypto_pwhash_str (out, password, strlen (password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                         crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    {
      g_set_error_literal (error, KH_SERVER_ERROR, KH_SERVER_ERROR_DATABASE,
                           _("Out of memory while hashing the password."));
      return NULL;
    }
  return g_strdup (out);
}

gboolean
kh_server_user_add (KhServer    *self,
                    const char  *username,
                    const char  *role,
                    const char  *scope_code,
                    const char  *password,
                    GError     **error)
{
  g_autofree char *unit = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *id = kh_uuid_v7_new ();
  g_autofree char *now = _kh_server_now_iso ();
  g_autoptr(KhServerLease) l = NULL;
  gint64 exists;
  gboolean found;

  if (username == NULL || *username == '\0' || strlen (username) > 64
      || !g_utf8_validate (username, -1, NULL) || strpbrk (username, " \t\r\n:") != NULL
      || !kh_text_is_plain (username, FALSE))
    {
      g_set_error_literal (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID,
                           _("A user name is 1 to 64 characters without spaces, colons or control characters."));
      return FALSE;
    }
  if (!valid_role (role))
    {
      g_set_error_literal (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID,
                           _("The role must be admin, officer or viewer."));
      return FALSE;
    }
  if (password == NULL || strlen (password) < 8)
    {
      g_set_error_literal (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID,
                           _("The password must have at least 8 characters."));
      return FALSE;
    }
  unit = kh_server_find_unit (self, scope_code, error);
  if (unit == NULL)
    return FALSE;
  hash = hash_password (password, error);
  if (hash == NULL)
    return FALSE;

  l = _kh_server_lease_new (self);
  {
    KhSqlParam q[1] = { KH_SQL_P_TEXT (username) };
    KhSqlParam p[6] = { KH_SQL_P_TEXT (id), KH_SQL_P_TEXT (username), KH_SQL_P_TEXT (hash),
                        KH_SQL_P_TEXT (role), KH_SQL_P_TEXT (unit), KH_SQL_P_TEXT (now) };
    KhSqlParam h[2] = { KH_SQL_P_TEXT (id), KH_SQL_P_TEXT (unit) };

    if (!kh_server_backend_begin (l->b, KH_TX_WRITE, error)
        || !kh_server_backend_query_int (l->b, "SELECT 1 FROM users WHERE username = ?", q, 1,
                                         &exists, &found, error))
      return FALSE;
    if (found)
      {
        g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID,
                     _("There is already a user called “%s”."), username);
        return FALSE;
      }
    if (!kh_server_backend_exec (l->b, "INSERT INTO users (id, username, password_hash, role, scope_unit_id, created_at) "
                                 "VALUES (?, ?, ?, ?, ?, ?)", p, 6, NULL, NULL, NULL, error)
        || !kh_server_backend_exec (l->b, "INSERT INTO scope_history (user_id, gen, scope_unit_id) VALUES (?, 1, ?)",
                                    h, 2, NULL, NULL, NULL, error)
        || !kh_server_backend_commit (l->b, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
user_row_cb (const char * const *v,
             int                 n,
             gpointer            data)
{
  GPtrArray *out = data;
  KhServerUser *u = g_new0 (KhServerUser, 1);

  u->id = g_strdup (v[0]);
  u->username = g_strdup (v[1]);
  u->role = g_strdup (v[2]);
  u->scope_unit_id = g_strdup (v[3]);
  u->scope_gen = g_ascii_strtoll (v[4], NULL, 10);
  u->disabled = g_ascii_strtoll (v[5], NULL, 10) != 0;
  u->scope_code = g_strdup (v[6] != NULL ? v[6] : "");
  u->permits = v[7] != NULL && kh_permits_parse (v[7]) >= 0 ? (guint) kh_permits_parse (v[7])
                                                          : kh_permits_for_role (u->role);
  g_ptr_array_add (out, u);
  return TRUE;
}

#define USER_COLUMNS "u.id, u.username, u.role, u.scope_unit_id, u.scope_gen, u.disabled, o.code, u.permissions"

GPtrArray *
kh_server_user_list (KhServer  *self,
                     GError   **error)
{
  g_autoptr(KhServerLease) l = _kh_server_lease_new (self);
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) kh_server_user_free);

  if (!kh_server_backend_exec (l->b, "SELECT " USER_COLUMNS " FROM users u "
                               "LEFT JOIN org_units o ON o.id = u.scope_unit_id ORDER BY u.username",
                               NULL, 0, user_row_cb, out, NULL, error))
    return NULL;
  return g_steal_pointer (&out);
}

static KhServerUser *
get_user (KhServerBackend  *b,
          const char       *username,
          GError          **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) kh_server_user_free);
  KhSqlParam p[1] = { KH_SQL_P_TEXT (username) };

  if (!kh_server_backend_exec (b, "SELECT " USER_COLUMNS " FROM users u "
                               "LEFT JOIN org_units o ON o.id = u.scope_unit_id WHERE u.username = ?",
                               p, 1, user_row_cb, out, NULL, error))
    return NULL;
  if (out->len == 0)
    {
      g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_NOT_FOUND,
                   _("There is no user called “%s”."), username);
      return NULL;
    }
  return g_ptr_array_steal_index (out, 0);
}

gboolean
kh_server_user_disable (KhServer    *self,
                        const char  *username,
                        GError     **error)
{
  g_autoptr(KhServerLease) l = _kh_server_lease_new (self);
  g_autoptr(KhServerUser) u = NULL;
  KhSqlParam p[1];

  if (!kh_server_backend_begin (l->b, KH_TX_WRITE, error)
      || (u = get_user (l->b, username, error)) == NULL)
    return FALSE;
  p[0] = KH_SQL_P_TEXT (u->id);
  return kh_server_backend_exec (l->b, "UPDATE users SET disabled = 1 WHERE id = ?", p, 1, NULL, NULL, NULL, error)
         && kh_server_backend_exec (l->b, "UPDATE tokens SET revoked = 1 WHERE user_id = ?", p, 1, NULL, NULL, NULL, error)
         && kh_server_backend_commit (l->b, error);
}

gboolean
kh_server_user_set_permits (KhServer    *self,
                            const char  *username,
                            const char  *permits,
                            GError     **error)
{
  g_autoptr(KhServerLease) l = NULL;
  g_autoptr(KhServerUser) u = NULL;
  g_autofree char *text = NULL;
  int parsed = kh_permits_parse (permits);
  KhSqlParam p[2];

  if (parsed < 0)
    {
      g_set_error_literal (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID,
                           _("The permissions are a list of submit, approve and pay, separated by "
                             "commas, or none."));
      return FALSE;
    }
  text = kh_permits_to_string ((guint) parsed);
  l = _kh_server_lease_new (self);
  if (!kh_server_backend_begin (l->b, KH_TX_WRITE, error)
      || (u = get_user (l->b, username, error)) == NULL)
    return FALSE;
  p[0] = KH_SQL_P_TEXT (text);
  p[1] = KH_SQL_P_TEXT (u->id);
  return kh_server_backend_exec (l->b, "UPDATE users SET permissions = ? WHERE id = ?", p, 2, NULL, NULL, NULL, error)
         && kh_server_backend_commit (l->b, error);
}

gboolean
kh_server_user_set_scope (KhServer    *self,
                          const char  *username,
                          const char  *scope_code,
                          GError     **error)
{
  g_autofree char *unit = kh_server_find_unit (self, scope_code, error);
  g_autoptr(KhServerLease) l = NULL;
  g_autoptr(KhServerUser) u = NULL;

  if (unit == NULL)
    return FALSE;
  l = _kh_server_lease_new (self);
  if (!kh_server_backend_begin (l->b, KH_TX_WRITE, error)
      || (u = get_user (l->b, username, error)) == NULL)
    return FALSE;
  {
    KhSqlParam p[3] = { KH_SQL_P_TEXT (unit), KH_SQL_P_INT (u->scope_gen + 1), KH_SQL_P_TEXT (u->id) };
    KhSqlParam h[3] = { KH_SQL_P_TEXT (u->id), KH_SQL_P_INT (u->scope_gen + 1), KH_SQL_P_TEXT (unit) };

    KhSqlParam e[2] = { KH_SQL_P_TEXT (u->id), KH_SQL_P_INT (u->scope_gen) };

    /* The old generation ends at the newest version: its reset names nothing newer. */
    return kh_server_backend_exec (l->b, "UPDATE scope_history SET until_version = "
                                   "(SELECT version FROM counter WHERE id = 1) "
                                   "WHERE user_id = ? AND gen = ? AND until_version IS NULL",
                                   e, 2, NULL, NULL, NULL, error)
           && kh_server_backend_exec (l->b, "UPDATE users SET scope_unit_id = ?, scope_gen = ? WHERE id = ?",
                                   p, 3, NULL, NULL, NULL, error)
           && kh_server_backend_exec (l->b, "INSERT INTO scope_history (user_id, gen, scope_unit_id) VALUES (?, ?, ?)",
                                      h, 3, NULL, NULL, NULL, error)
           && kh_server_backend_commit (l->b, error);
  }
}

gboolean
kh_server_token_revoke (KhServer    *self,
                        const char  *username,
                        gint64      *revoked,
                        GError     **error)
{
  g_autoptr(KhServerLease) l = _kh_server_lease_new (self);
  g_autoptr(KhServerUser) u = NULL;
  KhSqlParam p[1];

  if (!kh_server_backend_begin (l->b, KH_TX_WRITE, error)
      || (u = get_user (l->b, username, error)) == NULL)
    return FALSE;
  p[0] = KH_SQL_P_TEXT (u->id);
  return kh_server_backend_exec (l->b, "UPDATE tokens SET revoked = 1 WHERE user_id = ? AND revoked = 0",
                                 p, 1, NULL, NULL, revoked, error)
         && kh_server_backend_commit (l->b, error);
}

static char *
token_hash (const char *token)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, token, -1);
}

KhServerUser *
kh_server_login (KhServer    *self,
                 const char  *username,
                 const char  *password,
                 char       **token,
                 GError     **error)
{
  return kh_server_login_from (self, username, password, NULL, token, error);
}

KhServerUser *
kh_server_login_from (KhServer    *self,
                      const char  *username,
                      const char  *password,
                      const char  *address,
                      char       **token,
                      GError     **error)
{
  g_autoptr(KhServerLease) l = _kh_server_lease_new (self);
  g_autoptr(KhServerUser) u = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *now = _kh_server_now_iso ();
  KhSqlParam p[1] = { KH_SQL_P_TEXT (username) };
  guchar raw[32];
  g_autofree char *b64 = NULL;
  g_autofree char *th = NULL;
  gboolean ok;

  u = get_user (l->b, username, NULL);
  if (u != NULL)
    {
      if (!kh_server_backend_query_text (l->b, "SELECT password_hash FROM users WHERE username = ?",
                                         p, 1, &hash, error))
        return NULL;
    }
  /* Hash even for an unknown user, so timing does not tell which names exist. */
  if (hash == NULL)
    {
      static char dummy[crypto_pwhash_STRBYTES];
      static gsize once = 0;

      if (g_once_init_enter (&once))
        {
          if (crypto_pwhash_str (dummy, "dummy password", 14, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                 crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
            dummy[0] = '\0';
          g_once_init_leave (&once, 1);
        }
      if (crypto_pwhash_str_verify (dummy, password, strlen (password)) == 0)
        g_debug ("the dummy password matched");
      ok = FALSE;
    }
  else
    ok = crypto_pwhash_str_verify (hash, password, strlen (password)) == 0;
  if (!ok || u->disabled)
    {
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_UNAUTHORIZED,
                           _("Wrong user name or password."));
      return NULL;
    }

  randombytes_buf (raw, sizeof raw);
  b64 = g_base64_encode (raw, sizeof raw);
  g_strdelimit (b64, "+", '-');
  g_strdelimit (b64, "/", '_');
  if (strchr (b64, '=') != NULL)
    *strchr (b64, '=') = '\0';
  th = token_hash (b64);
  {
    KhSqlParam t[3] = { KH_SQL_P_TEXT (th), KH_SQL_P_TEXT (u->id), KH_SQL_P_TEXT (now) };
    KhSqlParam use[3] = { KH_SQL_P_TEXT (th), KH_SQL_P_TEXT (now), KH_SQL_P_TEXT (address) };

    if (!kh_server_backend_begin (l->b, KH_TX_WRITE, error)
        || !kh_server_backend_exec (l->b, "INSERT INTO tokens (hash, user_id, created_at) VALUES (?, ?, ?)",
                                    t, 3, NULL, NULL, NULL, error)
        || !kh_server_backend_exec (l->b, "INSERT INTO token_use (hash, used_at, address) VALUES (?, ?, ?)",
                                    use, 3, NULL, NULL, NULL, error)
        || !kh_server_backend_commit (l->b, error))
      return NULL;
  }
  *token = g_steal_pointer (&b64);
  return g_steal_pointer (&u);
}

/* An ISO time @hours before now, as the server stores times. */
static char *
hours_ago (gint64 hours)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) then = g_date_time_add_hours (now, (int) -hours);

  return g_date_time_format (then, "%Y-%m-%dT%H:%M:%SZ");
}

typedef struct
{
  GPtrArray *users;
  char      *used_at;
} AuthRow;

static gboolean
auth_row_cb (const char * const *v,
             int                 n,
             gpointer            data)
{
  AuthRow *row = data;

  user_row_cb (v, n, row->users);
  row->used_at = g_strdup (v[8]);
  return FALSE;
}

KhServerUser *
kh_server_authenticate (KhServer    *self,
                        const char  *token,
                        GError     **error)
{
  g_autoptr(KhServerLease) l = _kh_server_lease_new (self);
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) kh_server_user_free);
  g_autofree char *th = NULL;
  g_autofree char *cutoff = hours_ago ((gint64) self->token_days * 24);
  g_autofree char *hour_ago = NULL;
  AuthRow row = { out, NULL };
  KhSqlParam p[1];

  if (token == NULL || *token == '\0' || strlen (token) > 256)
    {
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_UNAUTHORIZED,
                           _("Log in first: this request needs a token."));
      return NULL;
    }
  th = token_hash (token);
  p[0] = KH_SQL_P_TEXT (th);
  if (!kh_server_backend_exec (l->b, "SELECT " USER_COLUMNS ", COALESCE(tu.used_at, t.created_at) "
                               "FROM tokens t JOIN users u ON u.id = t.user_id "
                               "LEFT JOIN token_use tu ON tu.hash = t.hash "
                               "LEFT JOIN org_units o ON o.id = u.scope_unit_id "
                               "WHERE t.hash = ? AND t.revoked = 0 AND u.disabled = 0",
                               p, 1, auth_row_cb, &row, NULL, error))
    return NULL;
  if (out->len == 0)
    {
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_UNAUTHORIZED,
                           _("The token is not valid any more: log in again."));
      return NULL;
    }
  if (g_strcmp0 (row.used_at, cutoff) < 0)
    {
      g_free (row.used_at);
      /* Words without values: the client shows them in the officer's language. */
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_UNAUTHORIZED,
                           _("This device went unused too long and was signed out: log in again."));
      return NULL;
    }
  /* The lifetime slides with use. Written at most once an hour per token, so the pages of a
   * pull do not each become a write. */
  hour_ago = hours_ago (1);
  if (g_strcmp0 (row.used_at, hour_ago) < 0)
    {
      g_autofree char *now = _kh_server_now_iso ();
      KhSqlParam u[2] = { KH_SQL_P_TEXT (th), KH_SQL_P_TEXT (now) };
      g_autoptr(GError) local = NULL;

      if (!kh_server_backend_exec (l->b, "INSERT INTO token_use (hash, used_at) VALUES (?, ?) "
                                   "ON CONFLICT (hash) DO UPDATE SET used_at = excluded.used_at",
                                   u, 2, NULL, NULL, NULL, &local))
        g_message ("could not note a token's use: %s", local->message);
    }
  g_free (row.used_at);
  /* The device is named as "token list" names it, so an administrator finds it there. */
  ((KhServerUser *) out->pdata[0])->device = g_strndup (th, 12);
  return g_ptr_array_steal_index (out, 0);
}

gboolean
kh_server_adopt_tokens (KhServer  *self,
                        GError   **error)
{
  g_autoptr(KhServerLease) l = _kh_server_lease_new (self);
  g_autofree char *now = _kh_server_now_iso ();
  KhSqlParam p[1] = { KH_SQL_P_TEXT (now) };

  return kh_server_backend_begin (l->b, KH_TX_WRITE, error)
         && kh_server_backend_exec (l->b, "INSERT INTO token_use (hash, used_at) "
                                    "SELECT t.hash, ? FROM tokens t LEFT JOIN token_use tu ON tu.hash = t.hash "
                                    "WHERE tu.hash IS NULL AND t.revoked = 0", p, 1, NULL, NULL, NULL, error)
         && kh_server_backend_commit (l->b, error);
}

/* Devices ------------------------------------------------------------------------------------ */

void
kh_server_device_free (KhServerDevice *device)
{
  if (device == NULL)
    return;
  g_free (device->id);
  g_free (device->created_at);
  g_free (device->used_at);
  g_free (device->address);
  g_free (device);
}

static gboolean
device_row_cb (const char * const *v,
               int                 n,
               gpointer            data)
{
  KhServerDevice *d = g_new0 (KhServerDevice, 1);

  d->id = g_strndup (v[0], 12);
  d->created_at = g_strdup (v[1]);
  d->used_at = g_strdup (v[2]);
  d->address = g_strdup (v[3]);
  g_ptr_array_add (data, d);
  return TRUE;
}

GPtrArray *
kh_server_device_list (KhServer    *self,
                       const char  *username,
                       GError     **error)
{
  g_autoptr(KhServerLease) l = _kh_server_lease_new (self);
  g_autoptr(KhServerUser) u = get_user (l->b, username, error);
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) kh_server_device_free);
  g_autofree char *cutoff = hours_ago ((gint64) self->token_days * 24);
  KhSqlParam p[2];

  if (u == NULL)
    return NULL;
  p[0] = KH_SQL_P_TEXT (u->id);
  p[1] = KH_SQL_P_TEXT (cutoff);
  if (!kh_server_backend_exec (l->b, "SELECT t.hash, t.created_at, COALESCE(tu.used_at, t.created_at), tu.address "
                               "FROM tokens t LEFT JOIN token_use tu ON tu.hash = t.hash "
                               "WHERE t.user_id = ? AND t.revoked = 0 "
                               "AND COALESCE(tu.used_at, t.created_at) >= ? ORDER BY 3 DESC, 1",
                               p, 2, device_row_cb, out, NULL, error))
    return NULL;
  return g_steal_pointer (&out);
}

gboolean
kh_server_device_revoke (KhServer    *self,
                         const char  *username,
                         const char  *device_id,
                         GError     **error)
{
  g_autoptr(KhServerLease) l = _kh_server_lease_new (self);
  g_autoptr(KhServerUser) u = NULL;
  g_autofree char *pattern = NULL;
  gint64 changed = 0;
  KhSqlParam p[2];

  if (device_id == NULL || strlen (device_id) < 6 || strlen (device_id) > 64
      || strspn (device_id, "0123456789abcdef") != strlen (device_id))
    {
      g_set_error_literal (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID,
                           _("A device is named by at least 6 of the hex digits “token list” shows."));
      return FALSE;
    }
  if (!kh_server_backend_begin (l->b, KH_TX_WRITE, error)
      || (u = get_user (l->b, username, error)) == NULL)
    return FALSE;
  pattern = g_strconcat (device_id, "%", NULL);
  p[0] = KH_SQL_P_TEXT (u->id);
  p[1] = KH_SQL_P_TEXT (pattern);
  if (!kh_server_backend_query_int (l->b, "SELECT count(*) FROM tokens WHERE user_id = ? AND revoked = 0 "
                                    "AND hash LIKE ?", p, 2, &changed, NULL, error))
    return FALSE;
  if (changed != 1)
    {
      g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_NOT_FOUND,
                   changed == 0 ? _("%s has no device “%s”: see “token list %s”.")
                                : _("More than one device of %s starts with “%s”: give more digits (see “token list %s”)."),
                   username, device_id, username);
      return FALSE;
    }
  return kh_server_backend_exec (l->b, "UPDATE tokens SET revoked = 1 WHERE user_id = ? AND revoked = 0 AND hash LIKE ?",
                                 p, 2, NULL, NULL, NULL, error)
         && kh_server_backend_commit (l->b, error);
}
