/* fuzz-page.c: the reader of a page of changes must never crash, hang or read out of bounds,
 * whatever the server sends; it reads a page, refuses it, or reads it with a record refused
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdint.h>
#include <string.h>

#include "kh-replica.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  GError *error = NULL;
  GError *check_error = NULL;
  char *rest = NULL;
  KhReplicaPage *page = kh_replica_page_read ((const char *) data, size, &rest, &check_error, &error);

  if (page == NULL)
    {
      g_assert (error != NULL && error->message != NULL);
      g_assert (check_error == NULL && rest == NULL);
      g_error_free (error);
      return 0;
    }
  g_assert (error == NULL && rest != NULL);
  /* What is left is never longer than what came. */
  g_assert (strlen (rest) <= size);
  g_clear_error (&check_error);
  g_free (rest);
  kh_replica_page_free (page);
  return 0;
}
