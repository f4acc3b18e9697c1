FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY smm_pulse smm_pulse
COPY streams streams
COPY agents agents
COPY dashboards dashboards
RUN pip install --no-cache-dir .
EXPOSE 6066
ENV SMM_PULSE_BIND=0.0.0.0
ENTRYPOINT ["smm-pulse"]
CMD ["up", "--config", "/etc/smm-pulse/smm.yaml"]
