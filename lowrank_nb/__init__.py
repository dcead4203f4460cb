__version__ = "0.1.0"

from .calibrate import Calibration, recalibrate_bn, output_distance
from .compress import compress, Plan, LayerPlan, apply_plan, count_params, count_macs
from .factor import FactoredConv, FactoredLinear, recompose_model
from .latency import deploy
