__version__ = "0.1.0"

from .core import count_params, count_macs
from .calibrate import Calibration, recalibrate_bn, output_distance, reconstruct
from .compress import (compress, Plan, LayerPlan, apply_plan, AllocOptions, Method, Budget, METHODS, BUDGETS,
                       register_method, register_budget)
from .factor import FactoredConv, FactoredLinear, recompose_model
from . import baselines                       # registers the methods pca, ft and pfp
from .latency import deploy, LatencyBudget    # registers the budget 'latency'
