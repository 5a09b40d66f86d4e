#include "config.h"
#include <stdio.h>
#include "vigil/vigil.h"
int main(void) { fputs(vigil_version_details(), stdout); return 0; }
