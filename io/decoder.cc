#include "io/decoder.h"
