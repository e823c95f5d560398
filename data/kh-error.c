/* kh-error.c: the data library's error domain
 *
 * An extended error domain: an error about one field of a record keeps the field's name beside
 * the message, so the form can mark that field's row and the import that field's column without
 * reading the (translated) message.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-error.h"

typedef struct
{
  char *field;
} KhDataErrorPrivate;

static void
kh_data_error_private_init (KhDataErrorPrivate *priv)
{
  priv->field = NULL;
}

static void
kh_data_error_private_copy (const KhDataErrorPrivate *src,
                            KhDataErrorPrivate       *dest)
{
  dest->field = g_strdup (src->field);
}

static void
kh_data_error_private_clear (KhDataErrorPrivate *priv)
{
  g_clear_pointer (&priv->field, g_free);
}

G_DEFINE_EXTENDED_ERROR (KhDataError, kh_data_error)

/* Sets @error to a KH_DATA_ERROR_INVALID about @field, named by its registry name (NULL for
 * the record as a whole). */
void
kh_data_error_set_invalid (GError     **error,
                           const char  *field,
                           const char  *format,
                           ...)
{
  GError *local;
  va_list args;

  if (error == NULL)
    return;
  va_start (args, format);
  local = g_error_new_valist (KH_DATA_ERROR, KH_DATA_ERROR_INVALID, format, args);
  va_end (args);
  kh_data_error_get_private (local)->field = g_strdup (field);
  g_propagate_error (error, local);
}

/* The name of the field @error is about, or NULL when it is about no one field (or is not a
 * KH_DATA_ERROR). */
const char *
kh_data_error_get_field (const GError *error)
{
  if (error == NULL || error->domain != KH_DATA_ERROR)
    return NULL;
  return kh_data_error_get_private (error)->field;
}
