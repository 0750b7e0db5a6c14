from django.urls import path

from . import views

urlpatterns = [
    path("become-manager/", views.become_manager, name="become_manager"),
    path("sign/<str:token>/", views.sign, name="sign"),
    path("sign/<str:token>/pdf/", views.sign_pdf, name="sign_pdf"),
    path("verify/", views.verify, name="verify"),
]
