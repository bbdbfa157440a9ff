#include "io/encoder.h"
