/**
 * Data-parallel training on Apache Spark in barrier mode, the pattern XGBoost4J-Spark uses: Spark partitions the
 * data and gang-starts one task per partition; the tasks meet once through {@code BarrierTaskContext.allGather},
 * join a {@link org.tessera.dist.TcpRing} and then all-reduce gradients among themselves every step, running the
 * same step code as the single-machine {@link org.tessera.train.Trainer}. Spark is a {@code provided} dependency:
 * the cluster (or the application) supplies Spark 4.1.3 or newer (Scala 2.13). Entry point: {@link SparkTrainer}.
 */
package org.tessera.spark;
