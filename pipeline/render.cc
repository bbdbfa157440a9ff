#include "pipeline/render.h"
