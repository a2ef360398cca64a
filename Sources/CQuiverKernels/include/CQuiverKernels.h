#include "panel_product.h"
#include "attention_head.h"
