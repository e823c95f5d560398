/* kh-store-checkpoint.c: checkpointing on another thread during a bulk write
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-sqlite.h"
#include "kh-store-private.h"

/* Checkpointing on another thread ------------------------------------------------------------
 *
 * In WAL mode every COMMIT that leaves the log over 1,000 pages copies it back into the
 * database first (the automatic checkpoint), on the writer's thread: a tenth of a bulk write's
 * time. While kh_store_checkpoint_aside() is in force, the writer only appends to the log and a
 * second connection on its own thread copies it back after each COMMIT (a passive checkpoint
 * never blocks the writer). It keeps up easily, so the log is still taken up again from its
 * start and does not grow; a lost race only leaves it longer until the next checkpoint.
 *
 * Told to stop, it still copies back what was committed since its last checkpoint, without
 * the writer waiting for that: the writer goes on, and joins the thread only when it sets
 * checkpoints aside again or closes. The last COMMIT of a first pull, the one that makes its
 * indexes again, leaves a log of a few hundred MB; copying it back on the writer's thread took
 * a second. */
typedef struct _Checkpointer
{
  char    *path;
  GThread *thread;
  GMutex   lock;
  GCond    cond;
  guint    commits;   /* COMMITs so far */
  gboolean stop;
} Checkpointer;

static gpointer
checkpointer_thread (gpointer data)
{
  Checkpointer *c = data;
  sqlite3 *db = NULL;
  guint done = 0;

  /* A connection knows the database is in WAL mode once it has read it. */
  if (kh_sqlite_open (c->path, &db, FALSE) != SQLITE_OK
      || sqlite3_exec (db, "PRAGMA journal_mode", NULL, NULL, NULL) != SQLITE_OK)
    {
      g_debug ("no checkpoints on another thread: %s", db ? sqlite3_errmsg (db) : "out of memory");
      sqlite3_close (db);
      return NULL;
    }
  g_mutex_lock (&c->lock);
  for (;;)
    {
      while (!c->stop && c->commits == done)
        g_cond_wait (&c->cond, &c->lock);
      if (c->commits == done)
        break;  /* told to stop, with nothing left to copy back */
      done = c->commits;
      g_mutex_unlock (&c->lock);
      sqlite3_wal_checkpoint_v2 (db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
      g_mutex_lock (&c->lock);
    }
  g_mutex_unlock (&c->lock);
  sqlite3_close (db);
  return NULL;
}

/* Waits for the checkpointer told to stop, if there is one. */
void
_kh_store_checkpointer_join (KhStore *self)
{
  Checkpointer *c = g_steal_pointer (&self->retiring);

  if (c == NULL)
    return;
  g_thread_join (c->thread);
  g_mutex_clear (&c->lock);
  g_cond_clear (&c->cond);
  g_free (c->path);
  g_free (c);
}

/* Tells the checkpointer to stop once it has copied back the last COMMIT, without waiting. */
void
_kh_store_checkpointer_stop (KhStore *self)
{
  Checkpointer *c = g_steal_pointer (&self->checkpointer);

  if (c == NULL)
    return;
  _kh_store_checkpointer_join (self);
  g_mutex_lock (&c->lock);
  c->stop = TRUE;
  g_cond_signal (&c->cond);
  g_mutex_unlock (&c->lock);
  self->retiring = c;
  /* Should the writer commit meanwhile, a checkpoint of its own gives way to that one. */
  sqlite3_wal_autocheckpoint (self->db, 1000);
}

/* Whether each COMMIT from now on waits until it is on the disk (TRUE, the default) or only
 * until it is written (FALSE). Either way a commit is whole or absent and commits stay in
 * order; without the wait a power cut may undo the last few. Only for writes that can be made
 * again, such as a first pull (its cursor is undone with its records, so it starts over from
 * the last page that stayed). Other connections keep their own setting, and the next commit
 * that waits takes everything written before it to the disk. */
gboolean
kh_store_set_durable (KhStore   *self,
                      gboolean   durable,
                      GError   **error)
{
  g_return_val_if_fail (KH_IS_STORE (self), FALSE);

  return kh_sqlite_exec (self->db, durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL", error);
}

/* Whether SQLite evaluates the tables' CHECK constraints on this connection (TRUE, the default).
 * They say again, in SQL, what kh_field_validate_value() checks of every field (lengths, the
 * values of a choice, the forms of ids and dates, ranges): only for writes whose every value
 * has been through that already, such as a first pull, where evaluating them was a sixth to a
 * quarter of the writing thread's time. Types, NOT NULL and UNIQUE are enforced either way. */
gboolean
kh_store_set_checked (KhStore   *self,
                      gboolean   checked,
                      GError   **error)
{
  g_return_val_if_fail (KH_IS_STORE (self), FALSE);

  return kh_sqlite_exec (self->db, checked ? "PRAGMA ignore_check_constraints = OFF"
                                           : "PRAGMA ignore_check_constraints = ON", error);
}

/* Checkpoints on another thread from now on (TRUE), or on this one again (FALSE): for a long
 * run of large transactions, such as a first pull. Going back does not wait for the other
 * thread's last checkpoint. */
void
kh_store_checkpoint_aside (KhStore  *self,
                           gboolean  aside)
{
  Checkpointer *c;

  g_return_if_fail (KH_IS_STORE (self));

  if (!aside)
    {
      _kh_store_checkpointer_stop (self);
      return;
    }
  if (self->checkpointer != NULL || sqlite3_db_filename (self->db, "main") == NULL
      || sqlite3_db_filename (self->db, "main")[0] == '\0')
    return;
  _kh_store_checkpointer_join (self);
  c = g_new0 (Checkpointer, 1);
  c->path = g_strdup (sqlite3_db_filename (self->db, "main"));
  g_mutex_init (&c->lock);
  g_cond_init (&c->cond);
  c->thread = g_thread_try_new ("kh-checkpoint", checkpointer_thread, c, NULL);
  if (c->thread == NULL)
    {
      g_mutex_clear (&c->lock);
      g_cond_clear (&c->cond);
      g_free (c->path);
      g_free (c);
      return;
    }
  self->checkpointer = c;
  sqlite3_wal_autocheckpoint (self->db, 0);
}

void
_kh_store_checkpointer_commit (KhStore *self)
{
  Checkpointer *c = self->checkpointer;

  if (c == NULL)
    return;
  g_mutex_lock (&c->lock);
  c->commits++;
  g_cond_signal (&c->cond);
  g_mutex_unlock (&c->lock);
}
