/* kh-error.h: the data library's error domain
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define KH_DATA_ERROR (kh_data_error_quark ())

typedef enum
{
  KH_DATA_ERROR_INVALID,       /* a value a person typed is not acceptable */
  KH_DATA_ERROR_UNKNOWN_FIELD, /* a field the entity does not have */
  KH_DATA_ERROR_NOT_FOUND,     /* no such record, entity or id */
  KH_DATA_ERROR_DELETED,       /* the record was deleted */
  KH_DATA_ERROR_DATABASE,      /* SQLite failed */
  KH_DATA_ERROR_SCHEMA,        /* the database was made by a newer version */
  KH_DATA_ERROR_IO,            /* a file could not be read or written */
  KH_DATA_ERROR_CONFLICT,      /* the record changed under us */
  KH_DATA_ERROR_KEY,           /* the replica's key is wrong, missing or lost */
  KH_DATA_ERROR_TAMPERED,      /* a sealed page does not open: altered or damaged */
} KhDataError;

GQuark      kh_data_error_quark        (void);
void        kh_data_error_set_invalid  (GError       **error,
                                        const char    *field,
                                        const char    *format,
                                        ...) G_GNUC_PRINTF (3, 4);
const char *kh_data_error_get_field    (const GError  *error);

G_END_DECLS
