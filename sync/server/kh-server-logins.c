/* kh-server-logins.c: failed logins, slowed per (account, address) and per address
 *
 * An account is never locked as such: five wrong passwords for it from one address make only
 * that address wait for that account, so an attacker elsewhere cannot lock the person out.
 * Twenty failures from one address, whatever the names, make that address wait for every
 * account, except those signed in from that very address on a device that still works: a
 * colleague guessing names behind the office's one address does not lock out the officers
 * who work there. The counts live in the database (login_failures), so every server process on it
 * sees the same ones and a restart keeps them; an attempt is counted before its password is
 * checked, under the write lock, so parallel attempts cannot slip past the limit.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-server-core-private.h"

#define LOGIN_ACCOUNT_LIMIT  5
#define LOGIN_ADDRESS_LIMIT  20
#define LOGIN_WINDOW_SECONDS (15 * 60)
#define LOGIN_MAX_WAIT       300

typedef struct
{
  gint64   failures;
  gint64   last;
  gboolean found;
} Count;

static gboolean
count_row_cb (const char * const *v,
              int                 n,
              gpointer            data)
{
  Count *c = data;

  c->failures = g_ascii_strtoll (v[0], NULL, 10);
  c->last = g_ascii_strtoll (v[1], NULL, 10);
  c->found = TRUE;
  return FALSE;
}

/* Seconds still to wait after @c failures, the first @threshold free, then doubling. */
static int
wait_for (const Count *c,
          int          threshold,
          gint64       now)
{
  gint64 wait;

  if (!c->found || c->failures < threshold)
    return 0;
  wait = MIN ((gint64) 1 << MIN (c->failures - threshold + 1, 20), LOGIN_MAX_WAIT);
  return (int) MAX (c->last + wait - now, 0);
}

static char *
account_key (const char *username,
             const char *address)
{
  return g_strdup_printf ("u\n%s\n%s", address, username);
}

static char *
address_key (const char *address)
{
  return g_strdup_printf ("a\n%s", address);
}

gboolean
kh_server_login_reserve (KhServer    *self,
                         const char  *username,
                         const char  *address,
                         const char  *device_address,
                         int         *wait,
                         GError     **error)
{
  g_autoptr(KhServerLease) l = _kh_server_lease_new (self);
  g_autofree char *ukey = account_key (username, address);
  g_autofree char *akey = address_key (address);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  KhSqlParam old[1] = { KH_SQL_P_INT (now - LOGIN_WINDOW_SECONDS) };
  KhSqlParam u[1] = { KH_SQL_P_TEXT (ukey) };
  KhSqlParam a[1] = { KH_SQL_P_TEXT (akey) };
  KhSqlParam up[2] = { KH_SQL_P_TEXT (ukey), KH_SQL_P_INT (now) };
  KhSqlParam ap[2] = { KH_SQL_P_TEXT (akey), KH_SQL_P_INT (now) };
  KhSqlParam kp[2] = { KH_SQL_P_TEXT (username), KH_SQL_P_TEXT (device_address) };
  Count uc = { 0 }, ac = { 0 };
  gint64 known = 0;

  *wait = 0;
  if (!kh_server_backend_begin (l->b, KH_TX_WRITE, error)
      || !kh_server_backend_exec (l->b, "DELETE FROM login_failures WHERE last_at < ?", old, 1,
                                  NULL, NULL, NULL, error)
      || !kh_server_backend_exec (l->b, "SELECT failures, last_at FROM login_failures WHERE key = ?",
                                  u, 1, count_row_cb, &uc, NULL, error)
      || !kh_server_backend_exec (l->b, "SELECT failures, last_at FROM login_failures WHERE key = ?",
                                  a, 1, count_row_cb, &ac, NULL, error))
    return FALSE;
  *wait = wait_for (&uc, LOGIN_ACCOUNT_LIMIT, now);
  if (*wait == 0 && wait_for (&ac, LOGIN_ADDRESS_LIMIT, now) > 0)
    {
      if (!kh_server_backend_query_int (l->b, "SELECT count(*) FROM tokens t JOIN users u ON u.id = t.user_id "
                                        "JOIN token_use tu ON tu.hash = t.hash "
                                        "WHERE u.username = ? AND tu.address = ? AND t.revoked = 0",
                                        kp, 2, &known, NULL, error))
        return FALSE;
      if (known == 0)
        *wait = wait_for (&ac, LOGIN_ADDRESS_LIMIT, now);
    }
  if (*wait > 0)
    {
      kh_server_backend_rollback (l->b);
      return TRUE;
    }
#define BUMP "INSERT INTO login_failures (key, failures, last_at) VALUES (?, 1, ?) " \
             "ON CONFLICT (key) DO UPDATE SET failures = login_failures.failures + 1, " \
             "last_at = excluded.last_at"
  return kh_server_backend_exec (l->b, BUMP, up, 2, NULL, NULL, NULL, error)
         && kh_server_backend_exec (l->b, BUMP, ap, 2, NULL, NULL, NULL, error)
         && kh_server_backend_commit (l->b, error);
#undef BUMP
}

gboolean
kh_server_login_succeeded (KhServer    *self,
                           const char  *username,
                           const char  *address,
                           GError     **error)
{
  g_autoptr(KhServerLease) l = _kh_server_lease_new (self);
  g_autofree char *ukey = account_key (username, address);
  g_autofree char *akey = address_key (address);
  KhSqlParam u[1] = { KH_SQL_P_TEXT (ukey) };
  KhSqlParam a[1] = { KH_SQL_P_TEXT (akey) };

  /* The account starts afresh from this address; the address only gets back the attempt
   * this login used, so logging into one's own account does not clear guesses at others. */
  return kh_server_backend_begin (l->b, KH_TX_WRITE, error)
         && kh_server_backend_exec (l->b, "DELETE FROM login_failures WHERE key = ?", u, 1, NULL, NULL, NULL, error)
         && kh_server_backend_exec (l->b, "UPDATE login_failures SET failures = failures - 1 "
                                    "WHERE key = ? AND failures > 0", a, 1, NULL, NULL, NULL, error)
         && kh_server_backend_commit (l->b, error);
}
