"""jnx — data-exchange middleware of Jining's law-enforcement supervision platform.

济宁市行政执法监督平台数据交换中间件: pulls records from departments' source systems, maps them to the
Jining data standard, keeps them with their lineage, and pushes 双公示 disclosures to the public
credit platform.
"""

__version__ = "0.1.0"
