/*
 * ml_cmd.h - `vigil ml ...`: tools around the ML stage's PE model.
 */
#ifndef VIGIL_CLI_ML_CMD_H
#define VIGIL_CLI_ML_CMD_H

/*
 * vigil ml score [OPTIONS] FILE...      score PE files, show features
 * vigil ml score [OPTIONS] --csv FILE   score the rows of a feature CSV
 * argv[0] is "score" (the word after "ml"). Returns a VG_EXIT_* code:
 * CLEAN, FOUND when a file or row is flagged, ERROR on bad usage or
 * unreadable input.
 */
int vg_cli_ml(int argc, char **argv);

#endif
