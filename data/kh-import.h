/* kh-import.h: lists from CSV and Excel files into the store, all or nothing
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-c/json.h>

#include "kh-sheet.h"
#include "kh-store.h"

G_BEGIN_DECLS

typedef enum
{
  KH_IMPORT_FORMAT_AUTO,  /* by the file name, then by the content */
  KH_IMPORT_FORMAT_CSV,
  KH_IMPORT_FORMAT_XLSX,
} KhImportFormat;

/* What to do with rows that look like a record already there (or an earlier row). */
typedef enum
{
  KH_IMPORT_DUPLICATES_ASK,    /* write nothing; list them so a person can choose */
  KH_IMPORT_DUPLICATES_SKIP,   /* import the others, leave the duplicates out */
  KH_IMPORT_DUPLICATES_IMPORT, /* import them anyway */
} KhImportDuplicates;

typedef void (*KhImportProgressFunc) (guint    rows_done,
                                      gpointer user_data);

/* Zero-initialize, set what you need. */
typedef struct
{
  const char           *entity;       /* "award_entry", "person", "registration", … */
  const char           *list_id;      /* award entries join this list (and its unit) */
  const char           *org_unit_id;  /* the unit for rows that name none (id or code) */
  json_object          *defaults;     /* field → value for rows that leave a field out */
  const char * const   *map;          /* NULL-terminated "COLUMN=field" overrides; COLUMN is the
                                       * header text, a 1-based number or a letter (C); an empty
                                       * field ignores the column */
  KhImportFormat        format;
  KhImportDuplicates    duplicates;
  gboolean              dry_run;      /* check everything, write nothing */
  KhSheetLimits         limits;       /* zero fields take the defaults */
  guint                 max_problems; /* problems kept in the report; 0: 1000 */
  KhImportProgressFunc  progress;
  gpointer              progress_data;
  GCancellable         *cancellable;
} KhImportOptions;

typedef struct
{
  guint  row;      /* as numbered in the spreadsheet */
  char  *column;   /* the column's header, or NULL for the whole row */
  char  *field;    /* the field's name, or NULL */
  char  *reason;   /* a sentence a person can act on */
} KhImportProblem;

typedef struct
{
  char       *entity;
  guint       header_row;
  GPtrArray  *headers;        /* char *, one per column */
  GArray     *mapping;        /* int per column: a field index of the entity, or -1 */
  guint       rows_read;      /* data rows, not counting the header */
  guint       rows_valid;     /* rows that passed every check */
  guint       rows_written;   /* rows created in the store (0 unless committed) */
  guint       rows_skipped;   /* duplicates left out */
  guint       n_errors;       /* all bad rows' problems, even beyond those kept */
  guint       n_duplicates;
  GPtrArray  *errors;         /* KhImportProblem * */
  GPtrArray  *duplicates;     /* KhImportProblem * */
  gboolean    committed;      /* the rows are in the store */
  gboolean    needs_decision; /* duplicates were found and the caller must choose */
} KhImportReport;

KhImportReport *kh_import_file             (KhStore                *store,
                                            const char             *path,
                                            const KhImportOptions  *options,
                                            GError                **error);
KhImportReport *kh_import_data             (KhStore                *store,
                                            const char             *data,
                                            gsize                   length,
                                            const KhImportOptions  *options,
                                            GError                **error);
void            kh_import_report_free      (KhImportReport         *report);
gboolean        kh_import_report_save_csv  (KhImportReport         *report,
                                            const char             *path,
                                            GError                **error);
char           *kh_import_report_summary   (KhImportReport         *report);
int             kh_import_match_header     (const char             *entity,
                                            const char             *header);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KhImportReport, kh_import_report_free)

G_END_DECLS
