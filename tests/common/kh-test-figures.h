/* kh-test-figures.h: a hand-made province across the 2025 reform, and its figures worked out
 * by hand
 *
 * Two former provinces (A: districts A1 and A2 with communes Một, Hai, Ba, Bốn; B: district B1
 * with communes Năm and Sáu), merged on 01/07/2025 into one province P whose communes Tân Một,
 * Tân Hai and Tân Ba each took two former communes. Registrations, evaluations, recognitions,
 * award lists, funds, donations and disbursements from 2023 to 2025, and the eligible
 * population for some units and years. The same records are written into a local store by
 * the figures' own test and pushed through the real server by the sync test; both hold the
 * report to the figures below, which were counted by hand from the records, not by the code.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>
#include <json-c/json.h>

G_BEGIN_DECLS

typedef struct
{
  const char *code;
  const char *name;
  const char *kind;
  const char *parent;       /* code */
  const char *valid_from;
  const char *valid_to;
  const char *successor;    /* code of the unit it merged into, or NULL */
} KhTestFiguresUnit;

extern const KhTestFiguresUnit kh_test_figures_units[];
extern const guint kh_test_figures_n_units;

/* The unit list as `khuyenhoc-server org import` reads it. */
char *kh_test_figures_units_csv (void);

/* Creates a record of @entity with @fields (taken); returns its id. */
typedef char       *(*KhTestFiguresMake) (gpointer     data,
                                          const char  *entity,
                                          json_object *fields);
/* The id of the unit with official code @code. */
typedef const char *(*KhTestFiguresUnitId) (gpointer    data,
                                            const char *code);
/* The report of the unit with code @code for @year (kh_report_compute()). */
typedef json_object *(*KhTestFiguresCompute) (gpointer    data,
                                              const char *code,
                                              int         year,
                                              gboolean    by_successor);

/* Every record but the units and their succession links, in an order that creates what a
 * record refers to first. */
void kh_test_figures_build (KhTestFiguresMake    make,
                            KhTestFiguresUnitId  unit_id,
                            gpointer             data);

/* The province's and the former units' figures, every year, by successor and by each year's
 * tree. */
void kh_test_figures_check_province (KhTestFiguresCompute compute,
                                     gpointer             data);
/* Today's province by today's tree alone, 2025: what a replica holds without the former
 * units. */
void kh_test_figures_check_today    (KhTestFiguresCompute compute,
                                     gpointer             data);
/* The new commune Tân Một with its two predecessors, every year. */
void kh_test_figures_check_commune  (KhTestFiguresCompute compute,
                                     gpointer             data);

G_END_DECLS
