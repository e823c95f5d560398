/* kh-replica-key.h: finding, or making, the key that seals a replica
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What kh_replica_key_unlock() still needs. */
typedef enum
{
  KH_REPLICA_KEY_OPEN,            /* nothing: the key is given to the store */
  KH_REPLICA_KEY_NEED_PASSPHRASE, /* the passphrase of the key file beside the replica */
  KH_REPLICA_KEY_NEW_PASSPHRASE,  /* a new passphrase, to protect a new key (no keyring) */
} KhReplicaKeyNeed;

gboolean kh_replica_key_unlock (const char        *db_path,
                                const char        *passphrase,
                                KhReplicaKeyNeed  *need,
                                GError           **error);

G_END_DECLS
